// Flood protection end to end (issue #15, like Kamailio's pike): a source that sends more than
// the threshold within the window is banned and then dropped silently, while a legitimate SIPp
// caller on another address keeps completing calls; scanner user agents are refused; a gateway
// found by DNS (no `address`) is never limited, for as long as DNS says the address is its own.
// Every address is on loopback (127.0.0.0/8 all reaches the loopback interface on Linux).
import { createSocket, type Socket } from "node:dgram";
import { connect } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type Dialgate, startDialgate } from "../../src/app.js";
import { dialgateConfigSchema } from "../../src/config/schema.js";
import type { NativeEdge } from "../../src/sip/native/native-edge.js";
import { startDnsServer, type TestDnsServer, type ZoneRecord } from "../support/dns-server.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { startTestProxy, type TestProxy } from "../support/test-proxy.js";
import { forward, loopbackTarget, serialSteps, TestRouter } from "../support/test-router.js";

let proxy: TestProxy | null = null;
let dialgate: Dialgate | null = null;
let dns: TestDnsServer | null = null;
const sockets: Socket[] = [];

afterEach(async () => {
  await killAllSipp();
  for (const s of sockets.splice(0)) s.close();
  await proxy?.stop();
  proxy = null;
  await dialgate?.stop();
  dialgate = null;
  await dns?.close();
  dns = null;
});
afterAll(killAllSipp);

/** A UDP socket bound to `address` that counts what it receives. */
async function udpFrom(address: string): Promise<{ socket: Socket; received: string[] }> {
  const socket = createSocket("udp4");
  const received: string[] = [];
  socket.on("message", (d) => received.push(d.toString("latin1")));
  await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
  sockets.push(socket);
  return { socket, received };
}

function options(from: string, port: number, i: number, userAgent = "probe/1.0"): Buffer {
  return Buffer.from(
    [
      `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP ${from}:9;branch=z9hG4bKflood${i};rport`,
      "Max-Forwards: 70",
      `From: <sip:probe@${from}>;tag=f${i}`,
      `To: <sip:127.0.0.1:${port}>`,
      `Call-ID: flood-${i}@${from}`,
      "CSeq: 1 OPTIONS",
      `User-Agent: ${userAgent}`,
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
  );
}

const threshold = 200;

describe("flood protection", () => {
  it("bans a flooding source while a legitimate caller keeps completing calls", async () => {
    const gw = await SippProcess.start({ scenario: "uas-answer.xml", calls: 20 });
    const router = new TestRouter(() => forward(serialSteps([loopbackTarget(gw.port)])));
    proxy = await startTestProxy({
      router,
      sip: { flood: { threshold, windowSeconds: 1, banSeconds: 600, allow: [] } },
    });
    const port = proxy.port;
    // The caller and the gateway share 127.0.0.1: ~7 messages per call at 5 calls/s stay far
    // below 200 per second.
    const uac = await SippProcess.start({ scenario: "uac-call.xml", remote: proxy, calls: 20, rate: 5 });
    await waitFor(() => uac.messagesSoFar().some((m) => m.status === 200), 30_000, "the first call answered");

    const flooder = await udpFrom("127.0.0.2");
    const burst = 3000;
    for (let i = 0; i < burst; i++) {
      flooder.socket.send(options("127.0.0.2", port, i), port, "127.0.0.1");
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => proxy!.dialgate.edge.protectionStats.bans === 1, 30_000, "the flooder banned");

    const [caller, callee] = await Promise.all([uac.wait(), gw.wait()]);
    expect(caller.exitCode, caller.errors).toBe(0);
    expect(caller.stats?.successfulCalls).toBe(20);
    expect(callee.exitCode, callee.errors).toBe(0);

    const stats = proxy.dialgate.edge.protectionStats;
    expect(stats.bans).toBe(1);
    expect(stats.bannedNow).toBe(1);
    expect(stats.droppedMessages).toBeGreaterThan(0);
    // At most `threshold` of the flood was answered (one window's worth), nothing after the ban.
    expect(flooder.received.length).toBeLessThanOrEqual(threshold);
    expect(flooder.received.length + stats.droppedMessages).toBeLessThanOrEqual(burst);

    // A banned source cannot open a TCP connection either.
    const refusedBefore = stats.refusedConnections;
    const tcp = connect({ host: "127.0.0.1", port, localAddress: "127.0.0.2" });
    tcp.on("error", () => {});
    await waitFor(() => tcp.destroyed || tcp.closed, 10_000, "the banned source's connection to be closed");
    expect(proxy.dialgate.edge.protectionStats.refusedConnections).toBe(refusedBefore + 1);
  });

  it("drops a scanner's request silently and bans its source", async () => {
    const router = new TestRouter();
    proxy = await startTestProxy({ router, sip: { flood: { allow: [] } } });
    const port = proxy.port;
    const scanner = await udpFrom("127.0.0.3");
    scanner.socket.send(options("127.0.0.3", port, 1, "friendly-scanner"), port, "127.0.0.1");
    await waitFor(
      () => proxy!.dialgate.edge.protectionStats.scannerRequests === 1,
      10_000,
      "the scanner seen",
    );
    // Its next request, whatever its User-Agent, is dropped unread.
    scanner.socket.send(options("127.0.0.3", port, 2), port, "127.0.0.1");
    await waitFor(() => proxy!.dialgate.edge.protectionStats.droppedMessages === 1, 10_000, "the drop");

    // Meanwhile another source is answered (and the router saw only that one).
    const honest = await udpFrom("127.0.0.4");
    honest.socket.send(options("127.0.0.4", port, 3), port, "127.0.0.1");
    await waitFor(() => honest.received.length === 1, 10_000, "an answer to the honest OPTIONS");
    expect(honest.received[0]).toMatch(/^SIP\/2\.0 200 /);
    expect(scanner.received).toEqual([]);
    expect(router.requests.map((r) => r.source.address)).toEqual(["127.0.0.4"]);
    expect(proxy.dialgate.edge.protectionStats).toMatchObject({ bans: 1, bannedNow: 1 });
    const metrics = await (
      await fetch(`http://127.0.0.1:${proxy.dialgate.http.address.port}/metrics`)
    ).text();
    expect(metrics).toMatch(/^dialgate_flood_bans_total 1$/m);
    expect(metrics).toMatch(/^dialgate_flood_scanner_requests_total 1$/m);
    expect(metrics).toMatch(/^dialgate_flood_dropped_messages_total 1$/m);
    expect(metrics).toMatch(/^dialgate_flood_banned_sources 1$/m);
  });
});

describe("flood protection and gateways found by DNS", () => {
  /** sbc.dns.test's SRV target resolves to `address` (TTL 1 s: dialgate asks again soon). */
  const zone = (address: string): ZoneRecord[] =>
    [
      {
        name: "_sip._udp.sbc.dns.test",
        type: "SRV",
        ttl: 1,
        data: { priority: 10, weight: 0, port: 5060, target: "a.dns.test" },
      },
      { name: "a.dns.test", type: "A", ttl: 1, data: address },
    ] as ZoneRecord[];

  it("never bans a gateway's DNS-found address, and bans it once DNS no longer names it", async () => {
    dns = await startDnsServer(zone("127.0.0.1"));
    const port = await freeSipPort();
    dialgate = await startDialgate(
      dialgateConfigSchema.parse({
        sip: {
          listen: [{ transport: "udp", host: "127.0.0.1", port }],
          recordRouteHost: "127.0.0.1",
          drainTimeoutSeconds: 0,
          overload: { enabled: false },
          dnsServers: [`127.0.0.1:${dns.port}`],
          // Nothing allowed by the file: only the gateway's DNS answer can exempt 127.0.0.1.
          flood: { threshold: 20, windowSeconds: 60, banSeconds: 600, allow: [] },
        },
        http: { port: 0 },
        gateways: [{ fqdn: "sbc.dns.test", sipSignalingPort: 5060, enabled: true, sendSipOptions: false }],
        tenants: [{ id: "contoso", domains: ["contoso.com"], trustedClientNetworks: ["10.20.0.0/16"] }],
      }),
    );
    const edge = dialgate.edge as NativeEdge;
    await waitFor(() => dns!.questions.includes("AAAA a.dns.test"), 10_000, "the gateway resolved");
    // The AAAA answer is the last of the lookup; give the book a moment to take it in.
    await new Promise((r) => setTimeout(r, 100));

    const gateway = await udpFrom("127.0.0.1");
    const burst = 200;
    for (let i = 0; i < burst; i++) gateway.socket.send(options("127.0.0.1", port, i), port, "127.0.0.1");
    await waitFor(() => gateway.received.length === burst, 10_000, "every OPTIONS answered");
    expect(edge.protectionStats).toMatchObject({ bans: 0, droppedMessages: 0 });

    // DNS now names another address for the gateway: once dialgate has asked again (TTL 1 s),
    // 127.0.0.1 is an ordinary source and the same burst bans it.
    dns.setZone(zone("192.0.2.44"));
    const asked = dns.questions.length;
    await waitFor(
      () => dns!.questions.slice(asked).includes("AAAA a.dns.test"),
      10_000,
      "the gateway re-resolved",
    );
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < burst; i++)
      gateway.socket.send(options("127.0.0.1", port, burst + i), port, "127.0.0.1");
    await waitFor(() => edge.protectionStats.bans === 1, 10_000, "127.0.0.1 banned");
  });
});
