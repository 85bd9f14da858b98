// End to end: calls the proxy ends itself get a CDR with endedBy "proxy" — a dialog whose BYE
// never comes (cdr.maxCallDurationSeconds), calls still up when a shutdown's drain runs out, and
// Timer C on a gateway that rings for ever (driven by hand: Timer C is over 3 minutes).
import { afterAll, describe, expect, it } from "vitest";
import { openCdrJournal } from "../../src/store/cdr-journal/index.js";
import { ALICE, cdrConfig, cdrPorts, HOST, startCdrProxy } from "../support/cdr-e2e.js";
import { readCdrs, waitForCdr } from "../support/cdr-records.js";
import { uacScenario } from "../support/cdr-scenarios.js";
import { waitFor } from "../support/free-port.js";
import { ManualTimerService } from "../support/manual-timer-service.js";
import { RawSipClient, rawRequest } from "../support/raw-sip-client.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";

afterAll(killAllSipp);

/** A call from Alice that stays up until someone else ends it; resolves with its Call-ID once answered. */
async function callThatStaysUp(
  edgePort: number,
  number: string,
): Promise<{ uac: SippProcess; callId: string }> {
  const uac = await SippProcess.start({
    scenario: uacScenario({ mode: "callee-hangs-up", from: ALICE }),
    remote: { host: HOST, port: edgePort },
    service: number,
    timeoutSeconds: 60,
  });
  let callId = "";
  await waitFor(() => {
    callId =
      uac
        .messagesSoFar()
        .find((m) => m.direction === "sent" && m.method === "ACK")
        ?.header("Call-ID")[0] ?? "";
    return callId !== "";
  });
  return { uac, callId };
}

describe("calls ended by the proxy", () => {
  it("a dialog whose BYE never comes is closed at cdr.maxCallDurationSeconds, and stops counting", async () => {
    const ports = await cdrPorts();
    const dialgate = await startCdrProxy(cdrConfig(ports, { maxCallDurationSeconds: 2 }));
    try {
      // The gateway answers and waits for a BYE; the caller waits for one too: nobody hangs up.
      const gw1 = await SippProcess.start({
        scenario: "uas-answer.xml",
        port: ports.gw1,
        timeoutSeconds: 60,
      });
      const { uac, callId } = await callThatStaysUp(ports.edge, "+14255550140");
      expect(dialgate.stats.dialogs).toBe(1);
      const r = await waitForCdr(dialgate.cdrLog, callId);
      expect(r).toMatchObject({ successfulCall: true, endedBy: "proxy", finalSipCode: 200 });
      expect(r.duration).toBeGreaterThanOrEqual(2);
      expect(r.duration).toBeLessThanOrEqual(4);
      // The edge forgot the dialog: it no longer holds a drain or the dialog count.
      expect(dialgate.stats.dialogs).toBe(0);
      expect(dialgate.recorder.stats.callsExpired).toBe(1);
      await uac.kill();
      await gw1.kill();
    } finally {
      await dialgate.stop();
    }
  });

  it("a call still up when the shutdown's drain runs out is recorded before the journal closes", async () => {
    const ports = await cdrPorts();
    const config = cdrConfig(ports);
    const dialgate = await startCdrProxy(config);
    const gw1 = await SippProcess.start({ scenario: "uas-answer.xml", port: ports.gw1, timeoutSeconds: 60 });
    const { uac, callId } = await callThatStaysUp(ports.edge, "+14255550141");
    expect(await dialgate.shutdown(300)).toBe(false);
    await uac.kill();
    await gw1.kill();
    // The journal is closed now: read it back as the next start would.
    const journal = await openCdrJournal({ file: config.cdr.file, readOnly: true });
    try {
      const { records } = await readCdrs(journal);
      expect(records.filter((x) => x.correlationId === callId)).toEqual([
        expect.objectContaining({ successfulCall: true, endedBy: "proxy", finalSipCode: 200 }),
      ]);
    } finally {
      await journal.close();
    }
  });

  it("Timer C on a gateway that rings and never answers: 408, endedBy proxy, timer C on the attempt", async () => {
    const ports = await cdrPorts();
    const timers = new ManualTimerService();
    const dialgate = await startCdrProxy(cdrConfig(ports), timers);
    const caller = await RawSipClient.open("tcp", { host: HOST, port: ports.edge });
    try {
      // Route Silent has this one gateway: after Timer C there is nothing to fail over to.
      const gw = await SippProcess.start({ scenario: "uas-ring-no-answer.xml", port: ports.silent });
      const uri = `sip:+15550001142@${HOST}:${ports.edge}`;
      const callId = "timer-c-cdr@test";
      const invite = rawRequest("INVITE", uri, "tcp", { branch: "z9hG4bKcdrtimerc", callId }).replace(
        "From: <sip:tester@127.0.0.1>",
        "From: <sip:alice@contoso.com>",
      );
      caller.send(invite);
      await caller.response((r) => r.status === 180);
      timers.advance(180_500); // the default Timer C
      expect((await caller.response()).status).toBe(408);
      const r = await waitForCdr(dialgate.cdrLog, callId);
      expect(r).toMatchObject({
        finalSipCode: 408,
        endedBy: "proxy",
        successfulCall: false,
        voiceRoute: "Silent",
        attempts: [expect.objectContaining({ fqdn: "silent.e2e.test", reason: "timeout", timer: "C" })],
      });
      await gw.kill();
    } finally {
      caller.close();
      await dialgate.stop();
    }
  });
});
