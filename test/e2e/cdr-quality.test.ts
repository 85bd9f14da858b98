// End to end: quality data lands on the CDR of its Call-ID — an RFC 6035 vq-rtcpxr PUBLISH
// (during the call: in the CDR; after the BYE: as an amendment readers merge) and X-RTP-Stat on
// the BYE — and bad PUBLISH bodies get 489 / 415 / 400 while calls keep working.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dialgate } from "../../src/app.js";
import { ALICE, type CdrPorts, cdrConfig, cdrPorts, HOST, startCdrProxy } from "../support/cdr-e2e.js";
import { readCdrs, waitForCdr } from "../support/cdr-records.js";
import { uacScenario } from "../support/cdr-scenarios.js";
import { waitFor } from "../support/free-port.js";
import { RawSipClient, rawRequest } from "../support/raw-sip-client.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { sessionReport } from "../support/vq-reports.js";

let ports: CdrPorts;
let dialgate: Dialgate;
let publisher: RawSipClient;

beforeAll(async () => {
  ports = await cdrPorts();
  dialgate = await startCdrProxy(cdrConfig(ports));
  publisher = await RawSipClient.open("udp", { host: HOST, port: ports.edge });
});

afterAll(async () => {
  publisher?.close();
  await killAllSipp();
  await dialgate?.stop();
});

const GATEWAY_REPORT = (callId: string) =>
  sessionReport(callId)
    .replace("LocalID: Alice <sip:alice@contoso.com>", "LocalID: <sip:+14255550123@gw1.e2e.test>")
    .replace("RemoteID: <sip:+14255550123@sbc1.contoso.com>", "RemoteID: Alice <sip:alice@contoso.com>")
    .replace("MOSLQ=4.1", "MOSLQ=3.7");

let published = 0;
/** Sends a PUBLISH to the proxy and resolves with its final response. */
async function publish(
  body: string,
  headers: { event?: string | null; type?: string | null } = {},
): Promise<{ status: number; header(name: string): string | undefined }> {
  const callId = `publish-${++published}@test`;
  const extra = [
    ...(headers.event === null ? [] : [`Event: ${headers.event ?? "vq-rtcpxr"}`]),
    ...(headers.type === null ? [] : [`Content-Type: ${headers.type ?? "application/vq-rtcpxr"}`]),
  ];
  publisher.send(
    rawRequest("PUBLISH", `sip:collector@${HOST}:${ports.edge}`, "udp", { callId, extra, body }),
  );
  return publisher.response((r) => r.status >= 200 && r.text.includes(callId));
}

describe("quality reports on the CDR", () => {
  it("a vq-rtcpxr report during the call and X-RTP-Stat on the caller's BYE are in the CDR itself", async () => {
    const gw1 = await SippProcess.start({ scenario: "uas-answer.xml", port: ports.gw1 });
    const uac = await SippProcess.start({
      scenario: uacScenario({
        mode: "caller-hangs-up",
        from: ALICE,
        byeHeaders: ["X-RTP-Stat: PS=1500,PR=1490,PL=10,JI=4,LA=30,MOS=4.2,EN=PCMU,VENDOR=acme"],
      }),
      remote: { host: HOST, port: ports.edge },
      service: "5550130",
      pauseMs: 2500,
    });
    // Mid-call: the ACK went out, so the call is up; the gateway reports now.
    let callId = "";
    await waitFor(() => {
      const ack = uac.messagesSoFar().find((m) => m.direction === "sent" && m.method === "ACK");
      callId = ack?.header("Call-ID")[0] ?? "";
      return callId !== "";
    });
    const answer = await publish(GATEWAY_REPORT(callId));
    expect(answer.status).toBe(200);
    expect(answer.header("SIP-ETag")).toMatch(/^[0-9a-f]+$/);
    expect((await uac.wait()).exitCode).toBe(0);
    await gw1.wait();

    const r = await waitForCdr(dialgate.cdrLog, callId);
    expect(r.revision).toBe(1);
    expect(r.quality?.callee).toMatchObject({
      source: "vq-rtcpxr",
      reporter: "<sip:+14255550123@gw1.e2e.test>",
      packetLossRate: 0.05,
      roundTripMs: 200,
      jitterMs: 2,
      mosLq: 3.7,
      codec: "G729",
    });
    expect(r.quality?.caller).toMatchObject({
      source: "X-RTP-Stat",
      reporter: "caller",
      packetsSent: 1500,
      packetsReceived: 1490,
      packetsLost: 10,
      jitterMs: 4,
      roundTripMs: 30,
      mosLq: 4.2,
      codec: "PCMU",
      raw: { VENDOR: "acme" },
    });
  });

  it("a report after the BYE is journalled as an amendment: readers see the merged record, revision 2", async () => {
    const gw1 = await SippProcess.start({ scenario: "uas-answer.xml", port: ports.gw1 });
    const uac = await SippProcess.start({
      scenario: uacScenario({ mode: "caller-hangs-up", from: ALICE }),
      remote: { host: HOST, port: ports.edge },
      service: "5550131",
      pauseMs: 500,
    });
    const result = await uac.wait();
    await gw1.wait();
    const callId = result.messages.find((m) => m.method === "INVITE")?.header("Call-ID")[0] ?? "";
    const cdr = await waitForCdr(dialgate.cdrLog, callId);
    expect(cdr.quality).toBeUndefined();

    expect((await publish(sessionReport(callId))).status).toBe(200);
    const merged = await waitForCdr(dialgate.cdrLog, callId, (r) => r.revision === 2);
    expect(merged.id).toBe(cdr.id);
    expect(merged.quality?.caller).toMatchObject({
      source: "vq-rtcpxr",
      mosLq: 4.1,
      reporter: "Alice <sip:alice@contoso.com>",
    });
    const { amendments } = await readCdrs(dialgate.cdrLog);
    expect(amendments.filter((a) => a.cdrId === cdr.id)).toHaveLength(1);
    expect(await dialgate.cdrLog.findById(cdr.id)).toMatchObject({
      revision: 2,
      quality: { caller: { mosLq: 4.1 } },
    });
  });

  it("answers 489 to another event package, 415 to another body type, 400 to a malformed body", async () => {
    expect((await publish(sessionReport("x"), { event: "presence" })).status).toBe(489);
    expect((await publish(sessionReport("x"), { event: null })).status).toBe(489);
    const wrongType = await publish(sessionReport("x"), { type: "application/sdp" });
    expect(wrongType.status).toBe(415);
    expect(wrongType.header("Accept")).toBe("application/vq-rtcpxr");
    const malformed = await publish("VQSessionReport: CallTerm\r\nthis is not a report\r\n");
    expect(malformed.status).toBe(400);
    expect(malformed.header("Warning")).toMatch(/^399 dialgate "vq-rtcpxr: /);
    expect((await publish("\u0000\u0001garbage")).status).toBe(400);
    // The proxy is fine: a call still goes through and gets its CDR.
    const gw1 = await SippProcess.start({ scenario: "uas-answer.xml", port: ports.gw1 });
    const uac = await SippProcess.start({
      scenario: uacScenario({ mode: "caller-hangs-up", from: ALICE }),
      remote: { host: HOST, port: ports.edge },
      service: "5550132",
      pauseMs: 100,
    });
    const result = await uac.wait();
    expect(result.exitCode, result.errors).toBe(0);
    await gw1.wait();
    const callId = result.messages.find((m) => m.method === "INVITE")?.header("Call-ID")[0] ?? "";
    expect(await waitForCdr(dialgate.cdrLog, callId)).toMatchObject({ successfulCall: true });
  });

  it("counts the quality reports on /metrics (joined, and for no known call)", async () => {
    expect((await publish(sessionReport("never-seen@test"))).status).toBe(200);
    const text = await (await fetch(`http://${HOST}:${dialgate.http.address.port}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? "NaN");
    // Two vq-rtcpxr reports and one X-RTP-Stat joined a call; one report matched nothing.
    expect(value("dialgate_quality_reports_total")).toBe(3);
    expect(value("dialgate_quality_reports_unmatched_total")).toBe(1);
    expect(value("dialgate_recorder_unexpected_events_total")).toBe(0);
    expect(value("dialgate_recorder_pending_writes")).toBe(0);
  });
});
