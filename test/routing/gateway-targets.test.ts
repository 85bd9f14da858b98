// The DNS book of gateways without `address` (RFC 3263, src/routing/dns/), against a real DNS
// server on loopback: RFC 2782's weighted choice is drawn for every call (not once per TTL), an
// answer cut short over UDP (TC) is asked again over TCP, and a call for a gateway not resolved
// yet asks the configured server first instead of leaving the FQDN to the system resolver.
import { afterEach, describe, expect, it } from "vitest";
import type { AttemptStep, RoutingDecision } from "../../src/routing/decision.js";
import { DnsStubClient } from "../../src/routing/dns/dns-client.js";
import { expandDnsTargets } from "../../src/routing/dns/expand-steps.js";
import { DnsGatewayTargets } from "../../src/routing/dns/gateway-targets.js";
import type { PstnGateway } from "../../src/routing/gateways.js";
import { seededRandom } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";
import { startDnsServer, type TestDnsServer, type ZoneRecord } from "../support/dns-server.js";
import { loadConfig } from "./support.js";

let dns: TestDnsServer | null = null;
afterEach(async () => {
  await dns?.close();
  dns = null;
});

function gateway(fqdn: string): PstnGateway {
  return loadConfig({
    sip: { listen: [{ transport: "udp", host: "127.0.0.1", port: 5060 }], recordRouteHost: "127.0.0.1" },
    gateways: [{ fqdn, enabled: true, sipSignalingPort: 5060 }],
  }).gateways[0]!;
}

/** Two SRV targets of equal priority, weights 10 and 30, on two loopback ports. */
const weighted: ZoneRecord[] = [
  {
    name: "_sip._udp.sbc.dns.test",
    type: "SRV",
    ttl: 300,
    data: { priority: 10, weight: 10, port: 5001, target: "light.dns.test" },
  },
  {
    name: "_sip._udp.sbc.dns.test",
    type: "SRV",
    ttl: 300,
    data: { priority: 10, weight: 30, port: 5002, target: "heavy.dns.test" },
  },
  {
    name: "_sip._udp.sbc.dns.test",
    type: "SRV",
    ttl: 300,
    data: { priority: 20, weight: 0, port: 5003, target: "backup.dns.test" },
  },
  { name: "light.dns.test", type: "A", ttl: 300, data: "127.0.0.1" },
  { name: "heavy.dns.test", type: "A", ttl: 300, data: "127.0.0.1" },
  { name: "backup.dns.test", type: "A", ttl: 300, data: "127.0.0.1" },
] as ZoneRecord[];

function book(server: TestDnsServer, fqdn = "sbc.dns.test", seed = 42): DnsGatewayTargets {
  const client = new DnsStubClient([{ host: "127.0.0.1", port: server.port }], 1_000);
  return new DnsGatewayTargets([gateway(fqdn)], client, seededRandom(seed), silentLogger());
}

function forwardTo(fqdn: string): RoutingDecision {
  const step: AttemptStep = {
    targets: [
      {
        requestUri: `sip:+14255550123@${fqdn}:5060;user=phone`,
        destination: { host: fqdn, port: 5060, transport: "udp" },
        label: fqdn,
        gateway: fqdn,
      },
    ],
    failoverResponseCodes: [503],
    failoverTimeoutMs: null,
  };
  return { kind: "forward", steps: [step], call: null };
}

describe("SRV weights (RFC 2782, RFC 3263 §4.4)", () => {
  it("are drawn again for every call, in proportion to the weights, with one DNS answer", async () => {
    dns = await startDnsServer(weighted);
    const targets = book(dns);
    await targets.start();
    targets.stop();
    const asked = dns.questions.length;
    const first = new Map<number, number>();
    const calls = 4_100;
    for (let i = 0; i < calls; i++) {
      const order = targets.targetsOf("sbc.dns.test")!.map((t) => t.port);
      // The lower priority target is always last; both equal-priority targets are always there.
      expect(order).toHaveLength(3);
      expect(order[2]).toBe(5003);
      first.set(order[0]!, (first.get(order[0]!) ?? 0) + 1);
    }
    // RFC 2782's draw: a number in 0..40 (sum of weights, inclusive), the first record whose
    // running sum reaches it: light for 0..10 (11 of 41), heavy for 11..40 (30 of 41).
    const heavyShare = (first.get(5002) ?? 0) / calls;
    expect(heavyShare).toBeGreaterThan(30 / 41 - 0.03);
    expect(heavyShare).toBeLessThan(30 / 41 + 0.03);
    expect((first.get(5001) ?? 0) + (first.get(5002) ?? 0)).toBe(calls);
    // One resolution served every call: the draw is per call, not per lookup.
    expect(dns.questions.length).toBe(asked);
  });
});

describe("DNS over UDP with the TC bit (RFC 1035 §4.2.2, RFC 7766)", () => {
  it("asks again over TCP and uses the whole answer", async () => {
    dns = await startDnsServer(weighted, { truncateUdp: true });
    const client = new DnsStubClient([{ host: "127.0.0.1", port: dns.port }], 1_000);
    const answer = await client.query("_sip._udp.sbc.dns.test", "SRV");
    expect(answer.answers).toHaveLength(3);
    expect(dns.questions).toEqual(["SRV _sip._udp.sbc.dns.test", "SRV _sip._udp.sbc.dns.test over TCP"]);

    const targets = book(dns);
    await targets.start();
    targets.stop();
    expect(
      targets
        .targetsOf("sbc.dns.test")
        ?.map((t) => t.port)
        .sort(),
    ).toEqual([5001, 5002, 5003]);
  });
});

describe("a call for a gateway not resolved yet", () => {
  it("waits for the lookup through the configured server, then goes to the DNS targets", async () => {
    dns = await startDnsServer(weighted, { answerDelayMs: 50 });
    const targets = book(dns);
    // No start(): as if the call arrived before the background lookup finished.
    const expanded = expandDnsTargets(forwardTo("sbc.dns.test"), targets);
    expect(expanded).toBeInstanceOf(Promise);
    const decision = await expanded;
    targets.stop();
    expect(decision.kind).toBe("forward");
    if (decision.kind !== "forward") return;
    expect(decision.steps.map((s) => s.targets[0]!.destination.host)).toEqual([
      "127.0.0.1",
      "127.0.0.1",
      "127.0.0.1",
    ]);
    expect(decision.steps[2]!.targets[0]!.destination.port).toBe(5003);
    // The Request-URI keeps the FQDN; only the destination was resolved.
    expect(decision.steps[0]!.targets[0]!.requestUri).toBe("sip:+14255550123@sbc.dns.test:5060;user=phone");
    expect(dns.questions).toContain("SRV _sip._udp.sbc.dns.test");
  });

  it("is refused 503 rather than handed to the system resolver when DNS has no target", async () => {
    dns = await startDnsServer([]);
    const targets = book(dns, "gone.dns.test");
    const decision = await expandDnsTargets(forwardTo("gone.dns.test"), targets);
    targets.stop();
    expect(decision).toMatchObject({ kind: "respond", status: 503 });
    expect(dns.questions).toContain("A gone.dns.test");
    // Asked once; the next call does not wait again (the retry timer asks in the background).
    const asked = dns.questions.length;
    expect(await expandDnsTargets(forwardTo("gone.dns.test"), targets)).toMatchObject({
      kind: "respond",
      status: 503,
    });
    expect(dns.questions.length).toBe(asked);
  });
});
