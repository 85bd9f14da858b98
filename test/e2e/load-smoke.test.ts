// A bounded load run through the native edge: every call completes and nothing leaks. Counts
// only; the rates and latencies belong to `npm run bench:load`.
import { afterAll, describe, expect, it } from "vitest";
import { NativeEdge } from "../../src/sip/native/native-edge.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { startTestProxy } from "../support/test-proxy.js";
import { forward, loopbackTarget, serialSteps, TestRouter } from "../support/test-router.js";

afterAll(killAllSipp);

describe("load smoke", () => {
  it("completes 400 calls with ACK and BYE and returns to zero transactions, calls, dialogs and timers", async () => {
    const calls = 400;
    const uas = await SippProcess.start({ scenario: "uas-answer.xml", calls, timeoutSeconds: 90 });
    const router = new TestRouter(() => forward(serialSteps([loopbackTarget(uas.port)])));
    const proxy = await startTestProxy({ router, transports: ["udp"], timers: { t1Ms: 100, t4Ms: 500 } });
    try {
      const uac = await SippProcess.start({
        scenario: "uac-call.xml",
        remote: proxy,
        calls,
        rate: 100,
        limit: 200,
        timeoutSeconds: 90,
      });
      const caller = await uac.wait();
      const gw = await uas.wait();
      expect(caller.stats?.successfulCalls, caller.errors).toBe(calls);
      expect(caller.stats?.failedCalls).toBe(0);
      expect(gw.stats?.successfulCalls).toBe(calls);
      expect(router.requests.length).toBe(calls);
      expect(proxy.events.filter((e) => e.type === "ended").length).toBe(calls);
      await proxy.settled(60_000);
      expect(proxy.dialgate.stats.dialogs).toBe(0);
    } finally {
      await proxy.stop();
    }
  });

  it("with every send batched (DIALGATE_UDP_BATCH=always): 400 calls complete, all sent through sendmmsg, on /metrics", async () => {
    const calls = 400;
    const uas = await SippProcess.start({ scenario: "uas-answer.xml", calls, timeoutSeconds: 90 });
    const router = new TestRouter(() => forward(serialSteps([loopbackTarget(uas.port)])));
    const before = process.env.DIALGATE_UDP_BATCH;
    process.env.DIALGATE_UDP_BATCH = "always"; // read when the edge's UDP transport is built
    const proxy = await startTestProxy({ router, transports: ["udp"], timers: { t1Ms: 100, t4Ms: 500 } });
    if (before === undefined) delete process.env.DIALGATE_UDP_BATCH;
    else process.env.DIALGATE_UDP_BATCH = before;
    try {
      const edge = proxy.dialgate.edge;
      if (!(edge instanceof NativeEdge)) throw new Error("the test proxy runs the native edge");
      const uac = await SippProcess.start({
        scenario: "uac-call.xml",
        remote: proxy,
        calls,
        rate: 100,
        limit: 200,
        timeoutSeconds: 90,
      });
      const caller = await uac.wait();
      const gw = await uas.wait();
      expect(caller.stats?.successfulCalls, caller.errors).toBe(calls);
      expect(caller.stats?.failedCalls).toBe(0);
      expect(gw.stats?.successfulCalls).toBe(calls);
      await proxy.settled(60_000);
      expect(proxy.dialgate.stats.dialogs).toBe(0);
      // 100 Trying, INVITE, 200, ACK, BYE and its 200: six datagrams a call left in batches.
      const batching = edge.udpBatching;
      expect(batching?.active).toBe(true);
      expect(batching?.datagrams).toBeGreaterThanOrEqual(6 * calls);
      const metrics = await (
        await fetch(`http://127.0.0.1:${proxy.dialgate.http.address.port}/metrics`)
      ).text();
      expect(metrics).toMatch(/^dialgate_sip_udp_batching 1$/m);
      const counted = Number(/^dialgate_sip_udp_batched_datagrams_total (\d+)$/m.exec(metrics)?.[1]);
      expect(counted).toBeGreaterThanOrEqual(6 * calls);
    } finally {
      await proxy.stop();
    }
  });
});
