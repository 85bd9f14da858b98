// Gateways found by DNS (RFC 3263, issue #15) against the built binary: a gateway configured
// without `address` is resolved NAPTR → SRV → A from a DNS server on loopback (sip.dnsServers);
// the call fails over from the first SRV target (503) to the second, and once the SRV TTL runs
// out the changed record order is used for the next call. A call that arrives before the first
// answer waits for it (through sip.dnsServers, never the system resolver).
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { startDnsServer, type TestDnsServer, type ZoneRecord } from "../support/dns-server.js";
import { waitFor } from "../support/free-port.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { type BinaryProxy, startBinaryProxy } from "../support/test-proxy.js";

let binary: BinaryProxy | null = null;
let dns: TestDnsServer | null = null;

afterEach(async () => {
  await killAllSipp();
  await binary?.terminate();
  binary = null;
  await dns?.close();
  dns = null;
});
afterAll(killAllSipp);

function zone(
  first: { port: number; target: string },
  second: { port: number; target: string },
): ZoneRecord[] {
  return [
    {
      name: "sbc.dns.test",
      type: "NAPTR",
      ttl: 300,
      data: {
        order: 10,
        preference: 10,
        flags: "s",
        services: "SIP+D2U",
        regexp: "",
        replacement: "_sip._udp.sbc.dns.test",
      },
    },
    // TTL 1 s: dialgate must ask again soon after.
    { name: "_sip._udp.sbc.dns.test", type: "SRV", ttl: 1, data: { priority: 10, weight: 0, ...first } },
    { name: "_sip._udp.sbc.dns.test", type: "SRV", ttl: 1, data: { priority: 20, weight: 0, ...second } },
    { name: "a.dns.test", type: "A", ttl: 300, data: "127.0.0.1" },
    { name: "b.dns.test", type: "A", ttl: 300, data: "127.0.0.1" },
  ] as ZoneRecord[];
}

function config(dnsPort: number): string {
  return `sip:
  listen:
    - { transport: udp, host: 127.0.0.1, port: @PORT@ }
  recordRouteHost: 127.0.0.1
  drainTimeoutSeconds: 1
  dnsServers: ['127.0.0.1:${dnsPort}']
http: { port: 0 }
gateways:
  - { fqdn: sbc.dns.test, sipSignalingPort: 5060, enabled: true, sendSipOptions: false, failoverTimeSeconds: 20 }
tenants:
  - id: contoso
    domains: [contoso.com]
    trustedClientNetworks: [127.0.0.0/8]
    pstnUsages: [US]
    voiceRoutes:
      - { identity: r1, numberPattern: '^\\+1', priority: 1, onlinePstnUsages: [US], onlinePstnGatewayList: [sbc.dns.test] }
    voiceRoutingPolicies:
      - { identity: Global, onlinePstnUsages: [US] }
    users:
      - { id: alice@contoso.com, lineUri: '+14255550100', usageLocation: US }
`;
}

function callAsAlice(port: number) {
  return SippProcess.start({
    scenario: "uac-user-call.xml",
    remote: { host: "127.0.0.1", port },
    keys: { from_user: "alice", from_domain: "contoso.com" },
    service: "+14255550123",
    timeoutSeconds: 60,
  });
}

const invites = (r: {
  messages: readonly { direction: string; method: string | null; status: number | null }[];
}) =>
  r.messages.filter((m) => m.direction === "received" && m.method === "INVITE" && m.status === null).length;

describe("gateways found by DNS (RFC 3263)", () => {
  it("fails over across SRV targets in priority order and honours the SRV TTL", async () => {
    const busy = await SippProcess.start({
      scenario: "uas-reject.xml",
      sets: { status: "503" },
      calls: 2,
      timeoutSeconds: 60,
    });
    const good = await SippProcess.start({ scenario: "uas-answer.xml", calls: 2, timeoutSeconds: 60 });
    const a = { port: busy.port, target: "a.dns.test" };
    const b = { port: good.port, target: "b.dns.test" };
    dns = await startDnsServer(zone(a, b));
    binary = await startBinaryProxy(config(dns.port));
    await waitFor(() => dns!.questions.includes("A b.dns.test"), 20_000, "dialgate to resolve the gateway");
    expect(dns.questions.slice(0, 2)).toEqual(["NAPTR sbc.dns.test", "SRV _sip._udp.sbc.dns.test"]);

    // Call 1: priority 10 (a) answers 503, a failover code: priority 20 (b) takes the call.
    const first = await (await callAsAlice(binary.port)).wait();
    expect(first.exitCode, first.errors).toBe(0);
    expect(invites({ messages: busy.messagesSoFar() })).toBe(1);
    expect(invites({ messages: good.messagesSoFar() })).toBe(1);

    // The SRV set changes; after its 1 s TTL dialgate asks again and b comes first.
    dns.setZone(zone(b, a));
    const asked = dns.questions.length;
    await waitFor(
      () => dns!.questions.slice(asked).includes("A a.dns.test"),
      20_000,
      "dialgate to re-resolve after the TTL",
    );
    const second = await (await callAsAlice(binary.port)).wait();
    expect(second.exitCode, second.errors).toBe(0);
    const goodSaw = await good.wait();
    expect(goodSaw.exitCode, goodSaw.errors).toBe(0);
    expect(invites(goodSaw)).toBe(2);
    // The busy target was not tried again.
    expect(invites(await busy.kill())).toBe(1);
  }, 120_000);

  it("routes a call that arrives before the first answer through the configured DNS server", async () => {
    const good = await SippProcess.start({ scenario: "uas-answer.xml", calls: 1, timeoutSeconds: 60 });
    const target = { port: good.port, target: "b.dns.test" };
    // A slow server: NAPTR, SRV and A take a second each, so the lookup is still running when
    // the call comes. The FQDN is unknown to the system resolver: only sip.dnsServers knows it.
    dns = await startDnsServer(zone(target, target), { answerDelayMs: 1_000 });
    binary = await startBinaryProxy(config(dns.port));
    expect(dns.questions.includes("A b.dns.test")).toBe(false);
    const call = await (await callAsAlice(binary.port)).wait();
    expect(call.exitCode, call.errors).toBe(0);
    const gw = await good.wait();
    expect(invites(gw)).toBe(1);
  }, 60_000);
});
