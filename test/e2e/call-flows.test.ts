// Call flows through the native edge: CANCEL, Max-Forwards, in-dialog requests from either
// side, early media, and retransmissions under loss.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { SippOptions, SippResult } from "../support/sipp.js";
import { killAllSipp, SCENARIO_DIR, SippProcess } from "../support/sipp.js";
import { startTestProxy, type TestProxy } from "../support/test-proxy.js";
import { forward, loopbackTarget, serialSteps, TestRouter } from "../support/test-router.js";

let proxy: TestProxy | null = null;

afterEach(async () => {
  await killAllSipp();
  await proxy?.stop();
  proxy = null;
});
afterAll(killAllSipp);

const fastTimers = { t1Ms: 50, t4Ms: 500 };

const received = (r: SippResult) => r.messages.filter((m) => m.direction === "received");

async function oneGatewayProxy(uasScenario: string, extra: Partial<SippOptions> = {}) {
  const uas = await SippProcess.start({ scenario: uasScenario, ...extra });
  const router = new TestRouter(() => forward(serialSteps([loopbackTarget(uas.port)])));
  proxy = await startTestProxy({ router, timers: fastTimers });
  return { uas, router, proxy };
}

describe("call flows", () => {
  it("CANCEL: the caller gets 200 for the CANCEL and 487 for the INVITE; the ringing gateway is CANCELled", async () => {
    const { uas, proxy } = await oneGatewayProxy("uas-ring-no-answer.xml");
    const uac = await SippProcess.start({ scenario: "uac-cancel.xml", remote: proxy });
    const [caller, gw] = await Promise.all([uac.wait(), uas.wait()]);
    expect(caller.exitCode, caller.errors).toBe(0);
    expect(gw.exitCode, gw.errors).toBe(0);
    expect(received(caller).map((m) => `${m.status} ${m.method}`)).toEqual(
      expect.arrayContaining(["200 CANCEL", "487 INVITE"]),
    );
    expect(received(gw).map((m) => m.method)).toEqual(["INVITE", "CANCEL", "ACK"]);
    expect(proxy.events.map((e) => e.type)).toContain("cancelled");
    expect(proxy.events.map((e) => e.type)).not.toContain("rejected");
    await proxy.settled();
  });

  it("answers 483 to Max-Forwards: 0 without asking the router or forwarding", async () => {
    const { uas, router, proxy } = await oneGatewayProxy("uas-answer.xml");
    const uac = await SippProcess.start({ scenario: "uac-reject.xml", remote: proxy, keys: { maxfwd: "0" } });
    const caller = await uac.wait();
    expect(caller.exitCode, caller.errors).toBe(0);
    expect(received(caller).map((m) => m.status)).toEqual([483]);
    expect(router.requests).toEqual([]);
    expect(received(await uas.kill())).toEqual([]);
    await proxy.settled();
  });

  it("forwards the callee's BYE back to the caller along the Record-Route set", async () => {
    const { uas, proxy } = await oneGatewayProxy("uas-answer-then-hang-up.xml");
    const uac = await SippProcess.start({ scenario: "uac-call-callee-hangs-up.xml", remote: proxy });
    const [caller, gw] = await Promise.all([uac.wait(), uas.wait()]);
    expect(caller.exitCode, caller.errors).toBe(0);
    expect(gw.exitCode, gw.errors).toBe(0);
    const bye = received(caller).find((m) => m.method === "BYE" && m.status === null)!;
    expect(bye.header("Via").length).toBe(2); // the gateway's and the proxy's
    expect(proxy.events.at(-1)).toMatchObject({ type: "ended", by: "callee" });
    await proxy.settled();
  });

  it("loose-routes a re-INVITE and its ACK inside the dialog", async () => {
    const { uas, router, proxy } = await oneGatewayProxy("uas-reinvite.xml");
    const uac = await SippProcess.start({ scenario: "uac-reinvite.xml", remote: proxy });
    const [caller, gw] = await Promise.all([uac.wait(), uas.wait()]);
    expect(caller.exitCode, caller.errors).toBe(0);
    expect(gw.exitCode, gw.errors).toBe(0);
    expect(received(gw).map((m) => m.method)).toEqual(["INVITE", "ACK", "INVITE", "ACK", "BYE"]);
    // In-dialog requests never reach the router.
    expect(router.requests.length).toBe(1);
    const reinvite = received(gw).filter((m) => m.method === "INVITE")[1]!;
    expect(reinvite.header("Route")).toEqual([]); // our own Route was consumed
    expect(reinvite.header("Via").length).toBe(2);
    // The proxy answered the re-INVITE with its own 100 Trying (the gateway sends none).
    expect(received(caller).some((m) => m.status === 100 && m.header("CSeq")[0] === "2 INVITE")).toBe(true);
    await proxy.settled();
  });

  it("relays 183 with early media before the 200", async () => {
    const { uas, proxy } = await oneGatewayProxy("uas-183-then-200.xml");
    const uac = await SippProcess.start({ scenario: "uac-call.xml", remote: proxy });
    const [caller, gw] = await Promise.all([uac.wait(), uas.wait()]);
    expect(caller.exitCode, caller.errors).toBe(0);
    expect(gw.exitCode, gw.errors).toBe(0);
    const statuses = received(caller)
      .filter((m) => m.method === "INVITE")
      .map((m) => m.status);
    expect(statuses.indexOf(183)).toBeGreaterThanOrEqual(0);
    expect(statuses.indexOf(183)).toBeLessThan(statuses.indexOf(200));
    expect(received(caller).find((m) => m.status === 183)?.text).toContain("m=audio");
    await proxy.settled();
  });

  it("absorbs retransmissions under simulated loss: every call completes", async () => {
    // 10% of what each SIPp sends is lost (INVITE, ACK, BYE from the caller; 100/180/200 from
    // the gateway), so the proxy's transactions must absorb and repair on both legs. Enough
    // calls that some messages are certainly lost.
    const calls = 30;
    // The gateway keeps each call 4 s after its 200 to the BYE (the shared scenario: 500 ms),
    // so a BYE whose 200 was lost finds the call when the proxy retransmits it (T1 100 ms:
    // at 100, 300, 700, 1,500 ms ...); with 500 ms, two lost 200s in a row (or a retransmission
    // delayed by a busy machine) left the BYE unanswered and the call failed with a 408.
    // The gateway's 100 Trying is never lost: when SIPp's 100, 180 and 200 of one call are all
    // dropped (0.1% of calls, a few percent of runs), the proxy rightly retransmits the INVITE,
    // and SIPp aborts that call as an unexpected message instead of answering it (seen in CI: a
    // 408 after Timer B). The proxy's INVITE retransmissions are covered in transactions.test.ts.
    const lingering = join(mkdtempSync(join(tmpdir(), "dialgate-loss-")), "uas-answer-linger.xml");
    const shared = readFileSync(join(SCENARIO_DIR, "uas-answer.xml"), "utf8");
    expect(shared).toContain('<timewait milliseconds="500"/>');
    expect(shared).toContain("<send>\n    <![CDATA[\n\n      SIP/2.0 100 Trying");
    writeFileSync(
      lingering,
      shared
        .replace('<timewait milliseconds="500"/>', '<timewait milliseconds="4000"/>')
        .replace(
          "<send>\n    <![CDATA[\n\n      SIP/2.0 100 Trying",
          '<send lost="0">\n    <![CDATA[\n\n      SIP/2.0 100 Trying',
        ),
    );
    const uas = await SippProcess.start({
      scenario: lingering,
      calls,
      lostPercent: 10,
      timeoutSeconds: 60,
    });
    const router = new TestRouter(() => forward(serialSteps([loopbackTarget(uas.port)])));
    proxy = await startTestProxy({ router, timers: { t1Ms: 100, t4Ms: 500 } });
    const uac = await SippProcess.start({
      scenario: "uac-call.xml",
      remote: proxy,
      calls,
      rate: 20,
      lostPercent: 10,
      timeoutSeconds: 60,
    });
    const caller = await uac.wait();
    const gw = await uas.kill();
    expect(caller.stats?.successfulCalls, caller.errors).toBe(calls);
    expect(caller.stats?.failedCalls).toBe(0);
    // Losses happened and were repaired by retransmissions on either side.
    expect((caller.stats?.retransmissions ?? 0) + (gw.stats?.retransmissions ?? 0)).toBeGreaterThan(0);
    // The router saw each call exactly once although INVITEs were retransmitted.
    expect(router.requests.length).toBe(calls);
    await proxy.settled(60_000);
  });
});
