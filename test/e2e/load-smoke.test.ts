// A bounded load run through the native edge: every call completes and nothing leaks. Counts
// only; the rates and latencies belong to `npm run bench:load`.
import { afterAll, describe, expect, it } from "vitest";
import { NativeEdge } from "../../src/sip/native/native-edge.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { startTestProxy, type TestProxy } from "../support/test-proxy.js";
import { forward, loopbackTarget, serialSteps, TestRouter } from "../support/test-router.js";

afterAll(killAllSipp);

const CALLS = 400;

/**
 * CALLS calls (100/s, at most 200 up) from SIPp through a proxy to a SIPp gateway; every one
 * completes with ACK and BYE and the proxy returns to no dialogs. `env` is set while the proxy
 * is built. `check` runs on the proxy before it stops.
 */
async function loadRun(
  env: Record<string, string>,
  check: (proxy: TestProxy, router: TestRouter) => Promise<void>,
): Promise<void> {
  const uas = await SippProcess.start({ scenario: "uas-answer.xml", calls: CALLS, timeoutSeconds: 90 });
  const router = new TestRouter(() => forward(serialSteps([loopbackTarget(uas.port)])));
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  const proxy = await startTestProxy({
    router,
    transports: ["udp"],
    timers: { t1Ms: 100, t4Ms: 500 },
  }).finally(() => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  try {
    const uac = await SippProcess.start({
      scenario: "uac-call.xml",
      remote: proxy,
      calls: CALLS,
      rate: 100,
      limit: 200,
      timeoutSeconds: 90,
    });
    const caller = await uac.wait();
    const gw = await uas.wait();
    expect(caller.stats?.successfulCalls, caller.errors).toBe(CALLS);
    expect(caller.stats?.failedCalls).toBe(0);
    expect(gw.stats?.successfulCalls).toBe(CALLS);
    await proxy.settled(60_000);
    expect(proxy.dialgate.stats.dialogs).toBe(0);
    await check(proxy, router);
  } finally {
    await proxy.stop();
  }
}

describe("load smoke", () => {
  it("completes 400 calls with ACK and BYE and returns to zero transactions, calls, dialogs and timers", async () => {
    await loadRun({}, async (proxy, router) => {
      expect(router.requests.length).toBe(CALLS);
      expect(proxy.events.filter((e) => e.type === "ended").length).toBe(CALLS);
    });
  });

  it("with every send batched (DIALGATE_UDP_BATCH=always): 400 calls complete, all sent through sendmmsg, on /metrics", async () => {
    await loadRun({ DIALGATE_UDP_BATCH: "always" }, async (proxy) => {
      const edge = proxy.dialgate.edge;
      if (!(edge instanceof NativeEdge)) throw new Error("the test proxy runs the native edge");
      // 100 Trying, INVITE, 200, ACK, BYE and its 200: six datagrams a call left in batches.
      const batching = edge.udpBatching;
      expect(batching?.active).toBe(true);
      expect(batching?.datagrams).toBeGreaterThanOrEqual(6 * CALLS);
      const metrics = await (
        await fetch(`http://127.0.0.1:${proxy.dialgate.http.address.port}/metrics`)
      ).text();
      expect(metrics).toMatch(/^dialgate_sip_udp_batching 1$/m);
      const counted = Number(/^dialgate_sip_udp_batched_datagrams_total (\d+)$/m.exec(metrics)?.[1]);
      expect(counted).toBeGreaterThanOrEqual(6 * CALLS);
    });
  });
});
