// A bounded load run through the native edge: every call completes and nothing leaks. Counts
// only; the rates and latencies belong to `npm run bench:load`.
import { afterAll, describe, expect, it } from "vitest";
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
});
