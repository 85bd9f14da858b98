// RFC 3263 resolution against a scripted DNS client: NAPTR → SRV → A/AAAA, the fallbacks when a
// step has no records, the smallest TTL, and RFC 2782 ordering.
import type { Answer } from "dns-packet";
import { describe, expect, it } from "vitest";
import type { DnsClient, DnsRecordType } from "../../src/routing/dns/dns-client.js";
import { orderSrv, orderTargets, resolveSipServer } from "../../src/routing/dns/sip-resolver.js";
import { seededRandom } from "../../src/util/clock.js";

function client(records: (Answer & { name: string })[]): DnsClient & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    query: async (name: string, type: DnsRecordType) => {
      asked.push(`${type} ${name}`);
      return { rcode: "NOERROR", answers: records.filter((r) => r.name === name && r.type === type) };
    },
  };
}

describe("resolveSipServer", () => {
  it("follows the NAPTR for the transport to SRV and A/AAAA, with the smallest TTL", async () => {
    const dns = client([
      {
        name: "sbc.example",
        type: "NAPTR",
        ttl: 300,
        data: {
          order: 20,
          preference: 1,
          flags: "s",
          services: "SIP+D2U",
          regexp: "",
          replacement: "_sip._udp.sbc.example",
        },
      },
      {
        name: "sbc.example",
        type: "NAPTR",
        ttl: 300,
        data: {
          order: 10,
          preference: 1,
          flags: "s",
          services: "SIPS+D2T",
          regexp: "",
          replacement: "_sips._tcp.sbc.example",
        },
      },
      {
        name: "_sips._tcp.sbc.example",
        type: "SRV",
        ttl: 60,
        data: { priority: 1, weight: 0, port: 5061, target: "a.sbc.example" },
      },
      { name: "a.sbc.example", type: "A", ttl: 30, data: "192.0.2.1" },
      { name: "a.sbc.example", type: "AAAA", ttl: 120, data: "2001:db8::1" },
    ] as (Answer & { name: string })[]);
    const r = await resolveSipServer(dns, "sbc.example", "tls", 5061);
    expect(orderTargets(r.services, seededRandom(1))).toEqual([
      { address: "192.0.2.1", port: 5061 },
      { address: "2001:db8::1", port: 5061 },
    ]);
    expect(r.ttlSeconds).toBe(30);
  });

  it("without NAPTR uses the transport's SRV name; without SRV the FQDN's addresses and the configured port", async () => {
    const dns = client([{ name: "gw.example", type: "A", ttl: 10, data: "198.51.100.5" }] as (Answer & {
      name: string;
    })[]);
    const r = await resolveSipServer(dns, "gw.example", "tcp", 5070);
    expect(dns.asked.slice(0, 2)).toEqual(["NAPTR gw.example", "SRV _sip._tcp.gw.example"]);
    expect(orderTargets(r.services, seededRandom(1))).toEqual([{ address: "198.51.100.5", port: 5070 }]);
  });
});

describe("orderSrv (RFC 2782)", () => {
  it("orders by priority and, within one, picks by weight", () => {
    const records = [
      { priority: 20, weight: 0, port: 1, target: "backup" },
      { priority: 10, weight: 90, port: 2, target: "heavy" },
      { priority: 10, weight: 10, port: 3, target: "light" },
    ];
    let heavyFirst = 0;
    const random = seededRandom(7);
    for (let i = 0; i < 1000; i++) {
      const order = orderSrv(records, random).map((r) => r.target);
      expect(order[2]).toBe("backup");
      if (order[0] === "heavy") heavyFirst++;
    }
    // 90 of every 101 draws go to the heavy record (weights 10 + 90, plus one for zero).
    expect(heavyFirst).toBeGreaterThan(800);
    expect(heavyFirst).toBeLessThan(960);
  });
});
