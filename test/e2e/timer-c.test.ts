// Timer C (RFC 3261 §16.6 step 11) with real sockets and hand-driven timers: a branch that rings
// for longer than Timer C is CANCELled and the caller gets 408.
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/free-port.js";
import { ManualTimerService } from "../support/manual-timer-service.js";
import { RawSipClient, rawRequest } from "../support/raw-sip-client.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { startTestProxy } from "../support/test-proxy.js";
import { forward, loopbackTarget, serialSteps, TestRouter } from "../support/test-router.js";

afterAll(killAllSipp);

describe("Timer C", () => {
  it("CANCELs a branch that rings too long, answers 408, and leaves nothing behind", async () => {
    const timers = new ManualTimerService();
    const uas = await SippProcess.start({ scenario: "uas-ring-no-answer.xml" });
    const router = new TestRouter(() => forward(serialSteps([loopbackTarget(uas.port)])));
    const proxy = await startTestProxy({ router, timerService: timers });
    const caller = await RawSipClient.open("tcp", proxy);
    try {
      const uri = `sip:+14255550100@127.0.0.1:${proxy.port}`;
      const invite = rawRequest("INVITE", uri, "tcp", { branch: "z9hG4bKtimerc1", callId: "timer-c@test" });
      caller.send(invite);
      await caller.response((r) => r.status === 180);

      timers.advance(180_500); // the default Timer C
      const final = await caller.response();
      expect(final.status).toBe(408);
      // The gateway got our CANCEL and answered it (its scenario then expects the ACK for 487).
      await waitFor(() =>
        uas.messagesSoFar().some((m) => m.direction === "received" && m.method === "CANCEL"),
      );
      const gw = await uas.wait();
      expect(gw.exitCode, gw.errors).toBe(0);
      expect(proxy.events).toContainEqual(
        expect.objectContaining({ type: "transaction-timeout", timer: "C" }),
      );

      // ACK the 408 (same branch as the INVITE), let every remaining timer run out.
      caller.send(
        rawRequest("ACK", uri, "tcp", { branch: "z9hG4bKtimerc1", callId: "timer-c@test" }).replace(
          /^To: .*$/m,
          `To: ${final.header("To")}`,
        ),
      );
      await waitFor(() => {
        timers.advance(1000);
        const s = proxy.dialgate.stats;
        return s.serverTransactions === 0 && s.clientTransactions === 0 && s.calls === 0 && s.timers === 0;
      });
    } finally {
      caller.close();
      await proxy.stop();
    }
  });
});
