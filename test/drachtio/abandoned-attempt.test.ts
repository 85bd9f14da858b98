// An attempt the failover timer gave up on, against a real drachtio-server. The B2BUA counts it
// as ended at once (the next gateway is tried without waiting for Timer B); a gateway that then
// answers after all must get its 200 ACKed and the leg hung up -- not bridged to the caller in
// place of the gateway now trying, and not left open at the gateway. SIPp on both sides.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallEvent, CallEventBus } from "../../src/calls/events.js";
import type { DrachtioEdge } from "../../src/sip/drachtio/drachtio-edge.js";
import { ALICE, HOST } from "../support/cdr-e2e.js";
import { uacScenario } from "../support/cdr-scenarios.js";
import { startDrachtioEdge } from "../support/drachtio-edge.js";
import { DrachtioServer } from "../support/drachtio-server.js";
import { freeUdpPort, waitFor } from "../support/free-port.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { forward, loopbackTarget, TestRouter } from "../support/test-router.js";

let server: DrachtioServer;
let edge: DrachtioEdge;
const events = new CallEventBus();
const router = new TestRouter();

beforeAll(async () => {
  server = await DrachtioServer.start();
  edge = await startDrachtioEdge(server, { router, events });
});

afterAll(async () => {
  await killAllSipp();
  await edge?.stop();
  await server?.stop();
});

describe("an attempt given up at the failover timer", () => {
  it("is hung up (ACK, BYE) when its gateway answers late, and the call goes on with the next gateway", async () => {
    const [latePort, nextPort] = [await freeUdpPort(), await freeUdpPort()];
    const late = loopbackTarget(latePort, { label: "late" });
    const next = loopbackTarget(nextPort, { label: "next" });
    // Step 1 gives up after 1 s; step 2 has no failover timer. The first gateway's 200 comes
    // at 2 s, while the second is still quiet (it answers at 3.5 s): taking that 200 as the
    // answer would bridge the caller to a gateway already failed over from.
    router.script(() =>
      forward([
        { targets: [late], failoverResponseCodes: [503], failoverTimeoutMs: 1_000 },
        { targets: [next], failoverResponseCodes: [503], failoverTimeoutMs: null },
      ]),
    );
    const seen: CallEvent[] = [];
    const off = events.subscribe((e) => seen.push(e));
    try {
      const lateGw = await SippProcess.start({
        scenario: "uas-answer-late.xml",
        port: latePort,
        pauseMs: 2_000,
      });
      const nextGw = await SippProcess.start({
        scenario: "uas-answer-late.xml",
        port: nextPort,
        pauseMs: 3_500,
      });
      const caller = await SippProcess.start({
        scenario: uacScenario({ mode: "caller-hangs-up", from: ALICE }),
        remote: { host: HOST, port: server.sipPort },
        service: "+14255550123",
        pauseMs: 500,
      });
      const result = await caller.wait();
      expect(result.exitCode, result.errors).toBe(0);
      // The late gateway got the ACK for its 200, then a BYE (its scenario waits for both).
      const lateResult = await lateGw.wait();
      expect(lateResult.exitCode, lateResult.errors).toBe(0);
      const got = lateResult.messages.filter((m) => m.direction === "received").map((m) => m.method);
      expect(got[0]).toBe("INVITE");
      expect(got.filter((m) => m !== "INVITE")).toEqual(["ACK", "BYE"]);
      expect((await nextGw.wait()).exitCode).toBe(0);
      const answered = seen.find((e) => e.type === "answered");
      expect(answered?.type === "answered" && answered.target.label).toBe("next");
      const failed = seen.filter((e) => e.type === "attempt-failed");
      expect(failed.map((e) => e.type === "attempt-failed" && [e.target.label, e.status, e.cause])).toEqual([
        ["late", null, "failover-timer"],
      ]);
      await waitFor(
        () => edge.stats.calls === 0 && edge.stats.dialogs === 0,
        10_000,
        "no call or dialog left in the edge",
      );
    } finally {
      off();
    }
  });
});
