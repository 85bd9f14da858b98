// Admission control (src/sip/native/admission-control.ts): while the load signal says the
// proxy is saturated, new INVITEs are answered at once with 503 + Retry-After, calls already
// admitted complete, and once the load falls calls are admitted again. The load signal is
// injected, so the test does not depend on how busy the machine is.

import { createSocket } from "node:dgram";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { dialgateConfigSchema } from "../../src/config/schema.js";
import { backlogLimitFor, type LoadProbe } from "../../src/sip/native/admission-control.js";
import { NativeEdge } from "../../src/sip/native/native-edge.js";
import { REQUESTED_RECEIVE_BUFFER_BYTES } from "../../src/sip/native/udp-transport.js";
import { waitFor } from "../support/free-port.js";
import { RawSipClient, rawRequest } from "../support/raw-sip-client.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { startTestProxy, type TestProxy } from "../support/test-proxy.js";
import { forward, loopbackTarget, serialSteps, TestRouter } from "../support/test-router.js";

let proxy: TestProxy | null = null;
afterEach(async () => {
  await killAllSipp();
  await proxy?.stop();
  proxy = null;
});
afterAll(killAllSipp);

/**
 * A proxy whose admission control reads `load.utilization` (set by the test) and forwards every
 * call to `gatewayPort`; random 0.5: a call is refused exactly while more than half are shed.
 */
async function proxyWithLoad(utilization: number, gatewayPort: number) {
  const load = { utilization };
  const probe: LoadProbe = { sample: () => load.utilization };
  const router = new TestRouter(() => forward(serialSteps([loopbackTarget(gatewayPort)])));
  const started = await startTestProxy({
    router,
    transports: ["udp"],
    timers: { t1Ms: 100, t4Ms: 500 },
    loadProbe: probe,
    random: () => 0.5,
  });
  proxy = started;
  const edge = started.dialgate.edge;
  if (!(edge instanceof NativeEdge)) throw new Error("the test proxy runs the native edge");
  return { load, router, edge, started };
}

describe("admission control", () => {
  it("sheds new INVITEs with 503 + Retry-After under overload while admitted calls complete", async () => {
    const uas = await SippProcess.start({ scenario: "uas-answer.xml", calls: 4, timeoutSeconds: 60 });
    const { load, router, edge, started } = await proxyWithLoad(0, uas.port);

    // Three calls are admitted and held for a while.
    const held = await SippProcess.start({
      scenario: "uac-call.xml",
      remote: started,
      calls: 3,
      rate: 10,
      pauseMs: 3000,
      timeoutSeconds: 60,
    });
    await waitFor(
      () => started.events.filter((e) => e.type === "answered").length === 3,
      20_000,
      "3 answered",
    );

    // Saturated: the shed share climbs past one half.
    load.utilization = 1;
    await waitFor(() => edge.overload.rejectFraction > 0.5, 20_000, "shedding to start");
    const caller = await RawSipClient.open("udp", started);
    try {
      caller.send(rawRequest("INVITE", `sip:+15550100@127.0.0.1:${started.port}`, "udp"));
      const refused = await caller.response();
      expect(refused.status).toBe(503);
      expect(refused.header("Retry-After")).toBe("2");
      // No 100 Trying, no state: the refusal is immediate and stateless.
      expect(caller.received.map((r) => r.status)).toEqual([503]);
      expect(edge.overload.rejected).toBe(1);
      // An operator sees it on /metrics.
      const metrics = await (
        await fetch(`http://127.0.0.1:${started.dialgate.http.address.port}/metrics`)
      ).text();
      expect(metrics).toMatch(/^dialgate_overload_refused_invites_total 1$/m);
      expect(metrics).toMatch(/^dialgate_overload_reject_fraction 0\.[5-9]\d*$/m);
      // The queue limit follows the buffer the kernel gave the socket (net.core.rmem_max caps it).
      const probe = createSocket({ type: "udp4", recvBufferSize: REQUESTED_RECEIVE_BUFFER_BYTES });
      await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
      const granted = probe.getRecvBufferSize();
      probe.close();
      expect(edge.overload.backlogLimitBytes).toBe(backlogLimitFor(granted));
      expect(metrics).toContain(`dialgate_overload_udp_backlog_limit_bytes ${backlogLimitFor(granted)}`);
    } finally {
      caller.close();
    }
    expect(router.requests.length).toBe(3);

    // The held calls end normally: BYE and its 200 are never shed.
    const heldResult = await held.wait();
    expect(heldResult.stats?.successfulCalls, heldResult.errors).toBe(3);
    expect(heldResult.stats?.failedCalls).toBe(0);

    // Load falls: new calls are admitted again.
    load.utilization = 0;
    await waitFor(() => edge.overload.rejectFraction === 0, 20_000, "shedding to stop");
    const after = await SippProcess.start({ scenario: "uac-call.xml", remote: started, calls: 1 });
    const afterResult = await after.wait();
    expect(afterResult.exitCode, afterResult.errors).toBe(0);
    expect((await uas.wait()).stats?.successfulCalls).toBe(4);
    await started.settled();
  });

  it("refuses a retransmission of a refused INVITE again once the load has eased", async () => {
    // The gateway is the discard port: nothing may be forwarded there anyway.
    const { load, router, edge, started } = await proxyWithLoad(1, 9);
    await waitFor(() => edge.overload.rejectFraction > 0.5, 20_000, "shedding to start");
    const caller = await RawSipClient.open("udp", started);
    try {
      const invite = rawRequest("INVITE", `sip:+15550100@127.0.0.1:${started.port}`, "udp");
      caller.send(invite);
      expect((await caller.response()).status).toBe(503);
      // The caller's retransmission, already on its way, arrives after the load fell: the
      // caller has given up on this INVITE, so admitting it now would leave a call nobody owns.
      load.utilization = 0;
      await waitFor(() => edge.overload.rejectFraction === 0, 20_000, "shedding to stop");
      caller.send(invite);
      const finals = () => caller.received.filter((r) => r.status >= 200);
      await waitFor(() => finals().length === 2, 10_000, "an answer to the retransmission");
      expect(finals()[1]?.status).toBe(503);
      expect(caller.received.some((r) => r.status === 100)).toBe(false);
      expect(router.requests.length).toBe(0);
    } finally {
      caller.close();
    }
  });

  it("applies a reloaded sip.overload at once, and names sip.workers and workerPortBase for a restart", async () => {
    const { router, edge, started } = await proxyWithLoad(1, 9);
    await waitFor(() => edge.overload.rejectFraction > 0.5, 20_000, "shedding to start");
    const reloaded = (overload: object) =>
      started.dialgate.reload(
        dialgateConfigSchema.parse({
          sip: {
            listen: [{ transport: "udp", host: "127.0.0.1", port: started.port }],
            recordRouteHost: "127.0.0.1",
            timers: { t1Ms: 100, t2Ms: 4000, t4Ms: 500 },
            drainTimeoutSeconds: 0,
            overload,
            workers: 1,
            workerPortBase: 30_000,
          },
          http: { port: 0 },
        }),
      );
    const caller = await RawSipClient.open("udp", started);
    try {
      const invite = (n: number) => rawRequest("INVITE", `sip:+1555010${n}@127.0.0.1:${started.port}`, "udp");
      // A new Retry-After is on the very next refusal; the workers' settings wait for a restart.
      const first = await reloaded({ enabled: true, retryAfterSeconds: 77 });
      expect(first).toMatchObject({ ok: true });
      if (!first.ok) return;
      expect(first.restartNeeded).toEqual(expect.arrayContaining(["sip.workers", "sip.workerPortBase"]));
      expect(first.restartNeeded).not.toContain("sip.overload");
      caller.send(invite(1));
      const refused = await caller.response();
      expect(refused.status).toBe(503);
      expect(refused.header("Retry-After")).toBe("77");

      // Turned off: nothing is shed any more, at once, whatever the load says.
      expect(await reloaded({ enabled: false })).toMatchObject({ ok: true });
      expect(edge.overload.rejectFraction).toBe(0);
      caller.send(invite(2));
      await waitFor(() => router.requests.length === 1, 10_000, "the INVITE routed");
      expect(caller.received.filter((r) => r.status === 503)).toHaveLength(1);
    } finally {
      caller.close();
    }
  });
});
