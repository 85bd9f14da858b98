// The drachtio edge against a real drachtio-server: the same CDRs as the native edge for the
// same calls (both dialgates run side by side, the call recorder and journal real), the
// connection's reconnect and dead-connection detection, and drachtio's CDR-event quirks.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dialgate, startDialgate } from "../../src/app.js";
import type { CallRecord } from "../../src/calls/call-record.js";
import { InMemoryDrachtioCallStore } from "../../src/sip/drachtio/call-store.js";
import { CdrReconciler, timeOfDayToEpoch } from "../../src/sip/drachtio/cdr-reconciler.js";
import { DrachtioEdge } from "../../src/sip/drachtio/drachtio-edge.js";
import { silentLogger } from "../../src/util/logger.js";
import { ALICE, type CdrPorts, cdrConfig, cdrPorts, HOST } from "../support/cdr-e2e.js";
import { readCdrs, waitForCdr } from "../support/cdr-records.js";
import { type UacScenario, uacScenario } from "../support/cdr-scenarios.js";
import { onDrachtioEdge } from "../support/drachtio-edge.js";
import { DrachtioServer } from "../support/drachtio-server.js";
import { waitFor } from "../support/free-port.js";
import { RawSipClient, rawRequest } from "../support/raw-sip-client.js";
import { SilentUdpGateway } from "../support/silent-udp-gateway.js";
import { killAllSipp, SippProcess as Sipp } from "../support/sipp.js";
import { sessionReport } from "../support/vq-reports.js";

let server: DrachtioServer;
let ports: CdrPorts;
let native: Dialgate;
let drachtio: Dialgate;
/** A clock the CDR sweep reads: real time plus what a test adds. */
let offsetMs = 0;
/** drachtio-servers a test starts for itself: stopped in afterAll even when the test throws. */
const extraServers: DrachtioServer[] = [];

beforeAll(async () => {
  server = await DrachtioServer.start();
  ports = await cdrPorts();
  native = await startDialgate(cdrConfig(ports), { random: () => 0.999 });
  drachtio = await startDialgate(onDrachtioEdge(cdrConfig(ports), server), {
    random: () => 0.999,
    clock: { now: () => Date.now() + offsetMs, monotonic: () => performance.now() },
  });
});

afterAll(async () => {
  await killAllSipp();
  await native?.stop();
  await drachtio?.stop();
  await server?.stop();
  for (const s of extraServers) await s.stop();
});

/** One call through a dialgate (its SIP port); resolves with its CDR. */
async function callThrough(
  edgePort: number,
  dialgate: Dialgate,
  number: string,
  gateways: { scenario: string; port: number; sets?: Record<string, string> }[],
  scenario: Partial<UacScenario> = {},
): Promise<CallRecord> {
  const gws = await Promise.all(gateways.map((g) => Sipp.start(g)));
  const file = uacScenario({ mode: "caller-hangs-up", from: ALICE, ...scenario });
  let result = await (
    await Sipp.start({
      scenario: file,
      remote: { host: HOST, port: edgePort },
      service: number,
      pauseMs: 300,
    })
  ).wait();
  // The free port the harness picked for SIPp can be taken by another process before SIPp binds
  // it (a shared machine): that run sent nothing, so it is simply started again.
  for (let i = 0; i < 3 && /Unable to bind main socket/.test(result.errors + result.stderr); i++)
    result = await (
      await Sipp.start({
        scenario: file,
        remote: { host: HOST, port: edgePort },
        service: number,
        pauseMs: 300,
      })
    ).wait();
  for (const g of gws) await g.kill();
  const invite = result.messages.find((m) => m.direction === "sent" && m.method === "INVITE");
  const callId = invite?.header("Call-ID")[0];
  if (callId === undefined) throw new Error(`SIPp sent no INVITE: ${result.stderr}`);
  return waitForCdr(dialgate.cdrLog, callId);
}

/** The CDR without what differs between any two calls (ids, clock times, duration). */
function comparable(r: CallRecord): Record<string, unknown> {
  const {
    id: _id,
    correlationId: _c,
    inviteDateTime: _i,
    startDateTime: _s,
    failureDateTime,
    endDateTime,
    duration: _d,
    attempts,
    ...rest
  } = r;
  return {
    ...rest,
    failed: failureDateTime !== null,
    ended: endDateTime !== null,
    attempts: attempts.map(({ startDateTime: _t, ...a }) => a),
  };
}

describe("the same CDRs on the native and the drachtio edge", () => {
  const cases: {
    name: string;
    number: string;
    gateways: (p: CdrPorts) => { scenario: string; port: number; sets?: Record<string, string> }[];
    scenario?: Partial<UacScenario>;
    /** A gateway port bound for the call that never answers (test/support/silent-udp-gateway.ts). */
    silent?: (p: CdrPorts) => number;
  }[] = [
    {
      name: "answered outbound call",
      number: "5550123",
      gateways: (p) => [{ scenario: "uas-answer.xml", port: p.gw1 }],
    },
    {
      name: "failover on 503 to the next gateway",
      number: "+12065550123",
      gateways: (p) => [
        { scenario: "uas-reject.xml", port: p.gw1, sets: { status: "503" } },
        { scenario: "uas-answer.xml", port: p.gw2 },
      ],
    },
    {
      name: "busy without failover",
      number: "+12065550124",
      gateways: (p) => [{ scenario: "uas-reject.xml", port: p.gw1, sets: { status: "486" } }],
      scenario: { mode: "rejected" },
    },
    {
      name: "failover timer on a gateway that sent 100 Trying only (CANCEL, then the next gateway)",
      number: "+12065550126",
      gateways: (p) => [
        { scenario: "uas-no-answer.xml", port: p.gw1 },
        { scenario: "uas-answer.xml", port: p.gw2 },
      ],
    },
    {
      name: "failover timer on a gateway that sends nothing at all, then the next gateway",
      number: "+14045550123",
      gateways: (p) => [{ scenario: "uas-answer.xml", port: p.gw2 }],
      silent: (p) => p.blackhole,
    },
    {
      name: "transport failure, then the next gateway",
      number: "+13035550100",
      gateways: (p) => [{ scenario: "uas-answer.xml", port: p.gw2 }],
    },
    { name: "no route", number: "+442071234567", gateways: () => [], scenario: { mode: "rejected" } },
    {
      name: "hung up by the callee",
      number: "5550125",
      gateways: (p) => [{ scenario: "uas-answer-then-hang-up.xml", port: p.gw1 }],
      scenario: { mode: "callee-hangs-up" },
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const silent = c.silent === undefined ? null : await SilentUdpGateway.bind(c.silent(ports));
      try {
        const viaNative = await callThrough(ports.edge, native, c.number, c.gateways(ports), c.scenario);
        const viaDrachtio = await callThrough(
          server.sipPort,
          drachtio,
          c.number,
          c.gateways(ports),
          c.scenario,
        );
        expect(comparable(viaDrachtio)).toEqual(comparable(viaNative));
      } finally {
        await silent?.close();
      }
    });
  }
});

describe("PUBLISH through drachtio-server", () => {
  /** Sends a PUBLISH to drachtio-server's SIP port and resolves with dialgate's final answer. */
  async function publish(body: string, event = "vq-rtcpxr") {
    const client = await RawSipClient.open("udp", { host: HOST, port: server.sipPort });
    try {
      const callId = `publish-${Math.random().toString(36).slice(2)}@test`;
      const uri = `sip:collector@${HOST}:${server.sipPort}`;
      const extra = [`Event: ${event}`, "Content-Type: application/vq-rtcpxr"];
      client.send(rawRequest("PUBLISH", uri, "udp", { callId, extra, body }));
      return await client.response((r) => r.status >= 200 && r.text.includes(callId));
    } finally {
      client.close();
    }
  }

  it("takes an RFC 6035 quality report into the call's CDR, as the native edge does", async () => {
    const record = await callThrough(server.sipPort, drachtio, "5550133", [
      { scenario: "uas-answer.xml", port: ports.gw1 },
    ]);
    expect(record.quality).toBeUndefined();
    const answer = await publish(sessionReport(record.correlationId));
    expect(answer.status).toBe(200);
    expect(answer.header("SIP-ETag")).toMatch(/^[0-9a-f]+$/);
    const merged = await waitForCdr(drachtio.cdrLog, record.correlationId, (r) => r.revision === 2);
    expect(merged.id).toBe(record.id);
    expect(merged.quality?.caller).toMatchObject({ source: "vq-rtcpxr", mosLq: 4.1 });
    const { amendments } = await readCdrs(drachtio.cdrLog);
    expect(amendments.filter((a) => a.cdrId === record.id)).toHaveLength(1);
    // Another event package is refused as on the native edge.
    expect((await publish(sessionReport("x@test"), "presence")).status).toBe(489);
  });
});

describe("drachtio-server CDR events", () => {
  it("are kept by Call-ID with wall-clock times, and the sweep drops an attempt that never got a stop", async () => {
    const edge = drachtio.edge as DrachtioEdge;
    const before = Date.now();
    const record = await callThrough(server.sipPort, drachtio, "5550126", [
      { scenario: "uas-answer.xml", port: ports.gw1 },
    ]);
    await waitFor(async () => {
      await edge.cdr.settled();
      return (await edge.callStore.get(record.correlationId))?.stopAt != null;
    });
    const r = await edge.callStore.get(record.correlationId);
    // Time-of-day stamps put on today's date: between the test's start and now (+ clock skew).
    for (const t of [r?.attemptAt, r?.startAt, r?.stopAt]) {
      expect(t).toBeGreaterThanOrEqual(before - 5_000);
      expect(t).toBeLessThanOrEqual(Date.now() + 5_000);
    }
    expect(r?.stopReason).toBe("normal-release:network");
    // A quick CANCEL leaves an attempt without a stop: after retainMs the sweep drops it.
    await edge.callStore.update("quick-cancel@test", { attemptAt: Date.now() }, Date.now());
    offsetMs = 11 * 60_000;
    await edge.cdr.sweep();
    offsetMs = 0;
    expect(await edge.callStore.get("quick-cancel@test")).toBeUndefined();
    expect(edge.cdr.stats.droppedWithoutStop).toBeGreaterThanOrEqual(1);
  });

  it("close a bridged call whose BYE never reached this instance, on either leg", async () => {
    const store = new InMemoryDrachtioCallStore();
    const now = Date.now();
    const closed: string[] = [];
    const call = (callId: string, calleeCallId: string | null) => ({
      callId,
      calleeCallId,
      inDialog: true,
      closeStale: (by: "caller" | "callee") => closed.push(`${callId}:${by}`),
    });
    const reconciler = new CdrReconciler({
      store,
      clock: { now: () => now, monotonic: () => 0 },
      log: silentLogger(),
      ownCalls: () => [
        call("a@test", "a-leg@drachtio"),
        call("b@test", "b-leg@drachtio"),
        call("c@test", "c-leg@drachtio"),
        call("d@test", "d-leg@drachtio"),
      ],
      retainMs: 30_000,
    });
    const ended = (source: "network" | "application") => ({
      startAt: now - 60_000,
      stopAt: now - 10_000,
      stopReason: `normal-release:${source}`,
    });
    // The stop of a@test reached another instance (round-robin) and was written to the store.
    await store.update("a@test", ended("network"), now);
    await store.update("b@test", { startAt: now - 60_000 }, now - 60_000);
    await store.update("b-leg@drachtio", { startAt: now - 60_000 }, now - 60_000);
    // The gateway hung up: drachtio-server ends the gateway's leg, under its own Call-ID.
    await store.update("c-leg@drachtio", ended("network"), now);
    // drachtio-server ended the gateway's leg itself (we sent that BYE): the caller hung up.
    await store.update("d-leg@drachtio", ended("application"), now);
    await reconciler.sweep();
    expect(closed).toEqual(["a@test:caller", "c@test:callee", "d@test:caller"]);
    // The records of both legs of a call still up stay, however long it lasts.
    expect(await store.get("b@test")).toBeDefined();
    expect(await store.get("b-leg@drachtio")).toBeDefined();
  });

  it("put a time of day on the nearest day, across midnight", () => {
    const justAfterMidnight = Date.parse("2026-12-03T00:00:00.100Z");
    expect(timeOfDayToEpoch("23:59:59.900000", justAfterMidnight)).toBe(
      Date.parse("2026-12-02T23:59:59.900Z"),
    );
    expect(timeOfDayToEpoch("00:00:00.050", Date.parse("2026-12-02T23:59:59.990Z"))).toBe(
      Date.parse("2026-12-03T00:00:00.050Z"),
    );
    expect(timeOfDayToEpoch("18:03:08.274406", Date.parse("2026-12-02T18:03:09Z"))).toBe(
      Date.parse("2026-12-02T18:03:08.274Z"),
    );
    expect(timeOfDayToEpoch("25:00:00", Date.now())).toBeNull();
    expect(timeOfDayToEpoch("", Date.now())).toBeNull();
  });
});

describe("the connection to drachtio-server", () => {
  it("reconnects after drachtio-server restarts, and calls route again", async () => {
    const edge = drachtio.edge as DrachtioEdge;
    const connects = edge.connection.connects;
    server = await server.restart();
    await waitFor(() => edge.connection.connects > connects && edge.connection.state === "connected", 30_000);
    const r = await callThrough(server.sipPort, drachtio, "5550127", [
      { scenario: "uas-answer.xml", port: ports.gw1 },
    ]);
    expect(r.finalSipCode).toBe(200);
  });

  it("connects over TLS, and reconnects over TLS after drachtio-server restarts", async () => {
    let tlsServer = await DrachtioServer.start({ tls: true });
    extraServers.push(tlsServer);
    const tls = tlsServer.tls;
    if (tls === null) throw new Error("no TLS port");
    const edge = new DrachtioEdge({
      settings: onDrachtioEdge(cdrConfig(ports), tlsServer).sip,
      drachtio: {
        ...tlsServer.connection,
        port: tls.port,
        tls: { caFile: tls.caFile },
        pingIntervalSeconds: 1,
      },
      router: { route: () => ({ kind: "respond", status: 403, reason: "Forbidden" }) },
    });
    try {
      await edge.start();
      expect(edge.connection.state).toBe("connected");
      // drachtio-srf's own reconnect would come back over plain TCP (to the TLS port: refused).
      tlsServer = await tlsServer.restart();
      extraServers.push(tlsServer);
      await waitFor(() => edge.connection.connects === 2 && edge.connection.state === "connected", 30_000);
      // A request still reaches the app over the new TLS connection.
      const s = await Sipp.start({
        scenario: uacScenario({ mode: "rejected", from: ALICE }),
        remote: { host: HOST, port: tlsServer.sipPort },
        service: "5550128",
      });
      const r = await s.wait();
      expect(r.messages.filter((m) => m.direction === "received").map((m) => m.status)).toContain(403);
    } finally {
      await edge.stop();
      await tlsServer.stop();
    }
  });

  it("refuses a TLS drachtio-server whose certificate it does not trust", async () => {
    const tlsServer = await DrachtioServer.start({ tls: true });
    extraServers.push(tlsServer);
    const edge = new DrachtioEdge({
      settings: onDrachtioEdge(cdrConfig(ports), tlsServer).sip,
      // No caFile: the self-signed certificate is not in the system store.
      drachtio: { ...tlsServer.connection, port: tlsServer.tls?.port ?? 0, tls: {}, pingIntervalSeconds: 1 },
      router: { route: () => ({ kind: "respond", status: 403, reason: "Forbidden" }) },
      connectTimeoutMs: 3_000,
    });
    try {
      await expect(edge.start()).rejects.toThrow(/no connection to drachtio-server/);
    } finally {
      await edge.stop();
      await tlsServer.stop();
    }
  });

  it("sends the health monitor's OPTIONS through drachtio-server: the gateway's status, null when nobody answers", async () => {
    const edge = drachtio.edge as DrachtioEdge;
    // The native dialgate answers OPTIONS from a known gateway address (127.0.0.1) with 200.
    const peer = { host: HOST, port: ports.edge, transport: "udp" as const };
    expect(await edge.sendOptions(peer, `sip:${HOST}:${ports.edge}`)).toBe(200);
    const dead = { host: HOST, port: ports.dead, transport: "tcp" as const };
    expect(await edge.sendOptions(dead, `sip:${HOST}:${ports.dead};transport=tcp`)).toBeNull();
  });

  it("notices a silently dead connection by its missed pings, reports not ready, and reconnects", async () => {
    const edge = drachtio.edge as DrachtioEdge;
    const connects = edge.connection.connects;
    server.pause();
    try {
      // The TCP connection stays open; only the missing pongs tell (ping interval 1 s here).
      await waitFor(() => edge.connection.state !== "connected", 30_000, "the edge to notice");
      const ready = await fetch(`http://${drachtio.http.address.host}:${drachtio.http.address.port}/readyz`);
      expect(ready.status).toBe(503);
    } finally {
      server.resume();
    }
    await waitFor(() => edge.connection.connects > connects && edge.connection.state === "connected", 30_000);
    const ready = await fetch(`http://${drachtio.http.address.host}:${drachtio.http.address.port}/readyz`);
    expect(ready.status).toBe(200);
  });
});
