// End to end: one CDR per call, for every way a call ends, through the real router, the native
// edge and the real CDR journal, with SIPp as callers and gateways. Each test checks what a
// carrier reconciles: numbers, rule, route, trunk, attempts, codes, who hung up, duration.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dialgate } from "../../src/app.js";
import type { CallRecord } from "../../src/calls/call-record.js";
import { ALICE, type CdrPorts, cdrConfig, cdrPorts, HOST, startCdrProxy } from "../support/cdr-e2e.js";
import { readCdrs, waitForCdr } from "../support/cdr-records.js";
import { type UacScenario, uacScenario } from "../support/cdr-scenarios.js";
import { killAllSipp, SippProcess as Sipp, type SippProcess, type SippResult } from "../support/sipp.js";

let ports: CdrPorts;
let dialgate: Dialgate;

beforeAll(async () => {
  ports = await cdrPorts();
  dialgate = await startCdrProxy(cdrConfig(ports));
});

afterAll(async () => {
  await killAllSipp();
  await dialgate?.stop();
});

function gateway(
  scenario: string,
  port: number,
  extra: { sets?: Record<string, string>; pauseMs?: number } = {},
) {
  return Sipp.start({ scenario, port, ...extra });
}

/** Places one call; resolves with SIPp's result and the call's Call-ID. */
async function call(
  number: string,
  scenario: Partial<UacScenario> = {},
  pauseMs = 200,
): Promise<{ result: SippResult; callId: string }> {
  const uac = await Sipp.start({
    scenario: uacScenario({ mode: "caller-hangs-up", from: ALICE, ...scenario }),
    remote: { host: HOST, port: ports.edge },
    service: number,
    pauseMs,
  });
  const result = await uac.wait();
  const invite = result.messages.find((m) => m.direction === "sent" && m.method === "INVITE");
  const callId = invite?.header("Call-ID")[0];
  if (callId === undefined) throw new Error(`SIPp sent no INVITE: ${result.stderr}`);
  return { result, callId };
}

const cdrOf = (callId: string) => waitForCdr(dialgate.cdrLog, callId);
const done = (s: SippProcess) => s.wait();
const ms = (iso: string) => Date.parse(iso);
const fromGateway = (fqdn: string) => ({
  from: `<sip:+12065550199@${fqdn};user=phone>`,
  contactHost: fqdn,
});

describe("CDRs end to end: answered calls", () => {
  it("answered, then hung up by the caller after the hold time (2 s)", async () => {
    const gw1 = await gateway("uas-answer.xml", ports.gw1);
    const { result, callId } = await call("5550123", {}, 2000);
    expect(result.exitCode, result.errors).toBe(0);
    await done(gw1);
    const r = await cdrOf(callId);
    expect(r).toMatchObject({
      correlationId: callId,
      tenantId: "contoso",
      userId: "alice@contoso.com",
      userPrincipalName: "alice@contoso.com",
      userDisplayName: "Alice",
      callType: "dr_out",
      callerNumber: "+14255550100",
      calleeNumber: "+14255550123",
      dialedNumber: "5550123",
      matchingRule: "7digit",
      // The effective plan of a user with a tenant dial plan (dialplan.md naming).
      effectiveTenantDialPlanName: "Tenant User - Service Country",
      voiceRoute: "Main",
      pstnUsage: "US",
      trunkFullyQualifiedDomainName: "gw1.e2e.test",
      carrierId: "acme",
      successfulCall: true,
      finalSipCode: 200,
      finalSipCodePhrase: "OK",
      endedBy: "caller",
      failureDateTime: null,
      revision: 1,
    });
    expect([...r.carrierIds].sort()).toEqual(["acme", "numbersco"]);
    expect(r.attempts).toEqual([
      expect.objectContaining({ fqdn: "gw1.e2e.test", finalSipCode: 200, reason: "answered" }),
    ]);
    expect(Math.abs(r.duration - 2)).toBeLessThanOrEqual(1);
    expect(ms(r.inviteDateTime)).toBeLessThanOrEqual(ms(r.startDateTime));
    expect(ms(r.startDateTime)).toBeLessThan(ms(r.endDateTime ?? ""));
  });

  it("answered, then hung up by the callee (the gateway's BYE after 1 s)", async () => {
    const gw1 = await gateway("uas-answer-then-hang-up.xml", ports.gw1, { pauseMs: 1000 });
    const { result, callId } = await call("5550124", { mode: "callee-hangs-up" });
    expect(result.exitCode, result.errors).toBe(0);
    await done(gw1);
    const r = await cdrOf(callId);
    expect(r).toMatchObject({
      successfulCall: true,
      endedBy: "callee",
      trunkFullyQualifiedDomainName: "gw1.e2e.test",
    });
    expect(Math.abs(r.duration - 1)).toBeLessThanOrEqual(1);
  });

  it("a call from a gateway to a user (dr_in): the inbound trunk and its carrier, the callee as the user", async () => {
    const bob = await gateway("uas-answer.xml", ports.bob);
    const { result, callId } = await call("+14255550101", fromGateway("gw1.e2e.test"), 1000);
    expect(result.exitCode, result.errors).toBe(0);
    await done(bob);
    const r = await cdrOf(callId);
    expect(r).toMatchObject({
      callType: "dr_in",
      tenantId: "contoso",
      userId: "bob@contoso.com",
      userDisplayName: "Bob",
      callerNumber: "+12065550199",
      calleeNumber: "+14255550101",
      trunkFullyQualifiedDomainName: "gw1.e2e.test",
      carrierId: "acme",
      endedBy: "caller",
    });
    expect([...r.carrierIds].sort()).toEqual(["acme", "numbersco"]);
  });

  it("an unassigned number forwarded by the tenant's treatment is dr_unassigned_in", async () => {
    const ivr = await gateway("uas-answer.xml", ports.ivr);
    const { result, callId } = await call("+14255559999", fromGateway("gw1.e2e.test"));
    expect(result.exitCode, result.errors).toBe(0);
    await done(ivr);
    expect(await cdrOf(callId)).toMatchObject({
      callType: "dr_unassigned_in",
      userId: null,
      successfulCall: true,
    });
  });

  it("a REFER-initiated call (Referred-By) is dr_out_user_transfer", async () => {
    const gw1 = await gateway("uas-answer.xml", ports.gw1);
    const { result, callId } = await call("5550125", {
      inviteHeaders: ["Referred-By: <sip:bob@contoso.com>"],
    });
    expect(result.exitCode, result.errors).toBe(0);
    await done(gw1);
    expect(await cdrOf(callId)).toMatchObject({ callType: "dr_out_user_transfer", successfulCall: true });
  });
});

describe("CDRs end to end: calls that were never answered", () => {
  it("refused by the router (404, no route): tenant and user on the record, no attempt; strangers get none", async () => {
    const stranger = await call("+14255550123", { mode: "rejected", from: "<sip:mallory@evil.example>" });
    const { result, callId } = await call("+442071234567", { mode: "rejected" });
    expect(result.exitCode, result.errors).toBe(0);
    const r = await cdrOf(callId);
    expect(r).toMatchObject({
      tenantId: "contoso",
      userId: "alice@contoso.com",
      calleeNumber: "+442071234567",
      successfulCall: false,
      finalSipCode: 404,
      finalSipCodePhrase: "No Route Found",
      endedBy: "proxy",
      attempts: [],
      duration: 0,
      endDateTime: null,
      voiceRoute: null,
    });
    expect(r.startDateTime).toBe(r.failureDateTime);
    // The unknown caller's 403 was committed before (or never): it is not there.
    const { records } = await readCdrs(dialgate.cdrLog);
    expect(records.some((x) => x.correlationId === stranger.callId)).toBe(false);
  });

  it("busy at the gateway (486): no failover, endedBy callee", async () => {
    const gw1 = await gateway("uas-reject.xml", ports.gw1, { sets: { status: "486" } });
    const { callId } = await call("5550126", { mode: "rejected" });
    await done(gw1);
    expect(await cdrOf(callId)).toMatchObject({
      finalSipCode: 486,
      endedBy: "callee",
      successfulCall: false,
      trunkFullyQualifiedDomainName: "gw1.e2e.test",
      attempts: [expect.objectContaining({ fqdn: "gw1.e2e.test", finalSipCode: 486, reason: "final" })],
    });
  });

  it("failed over on 503 to the next gateway, which answered: both attempts, both carriers", async () => {
    const gw1 = await gateway("uas-reject.xml", ports.gw1, { sets: { status: "503" } });
    const gw2 = await gateway("uas-answer.xml", ports.gw2);
    const { result, callId } = await call("+12065550123");
    expect(result.exitCode, result.errors).toBe(0);
    await Promise.all([done(gw1), done(gw2)]);
    const r = await cdrOf(callId);
    expect(r.attempts).toEqual([
      expect.objectContaining({ fqdn: "gw1.e2e.test", finalSipCode: 503, reason: "failover-code" }),
      expect.objectContaining({ fqdn: "gw2.e2e.test", finalSipCode: 200, reason: "answered" }),
    ]);
    expect(ms(r.attempts[0]!.startDateTime)).toBeLessThanOrEqual(ms(r.attempts[1]!.startDateTime));
    expect(r).toMatchObject({
      trunkFullyQualifiedDomainName: "gw2.e2e.test",
      carrierId: "globex",
      voiceRoute: "Main",
    });
    expect([...r.carrierIds].sort()).toEqual(["acme", "globex", "numbersco"]);
  });

  it("failed over after the failover timer (a silent gateway) and on a transport failure", async () => {
    const gw1 = await gateway("uas-no-answer.xml", ports.gw1);
    const gw2 = await gateway("uas-answer.xml", ports.gw2);
    const silent = await call("+12065550127");
    expect(silent.result.exitCode, silent.result.errors).toBe(0);
    await Promise.all([done(gw1), done(gw2)]);
    expect((await cdrOf(silent.callId)).attempts.map((a) => [a.fqdn, a.reason, a.finalSipCode])).toEqual([
      ["gw1.e2e.test", "failover-timer", null],
      ["gw2.e2e.test", "answered", 200],
    ]);

    const gw2again = await gateway("uas-answer.xml", ports.gw2);
    const refused = await call("+13035550100");
    expect(refused.result.exitCode, refused.result.errors).toBe(0);
    await done(gw2again);
    const r = await cdrOf(refused.callId);
    expect(r.attempts.map((a) => [a.fqdn, a.reason])).toEqual([
      ["dead.e2e.test", "transport"],
      ["gw2.e2e.test", "answered"],
    ]);
    expect(r.voiceRoute).toBe("Denver");
  });

  it("every gateway failed: the best response reaches the caller and the record", async () => {
    const gw1 = await gateway("uas-reject.xml", ports.gw1, { sets: { status: "503" } });
    const gw2 = await gateway("uas-reject.xml", ports.gw2, { sets: { status: "504" } });
    const gw3 = await gateway("uas-reject.xml", ports.gw3, { sets: { status: "503" } });
    const { callId } = await call("+14255550128", { mode: "rejected" });
    await Promise.all([done(gw1), done(gw2), done(gw3)]);
    const r = await cdrOf(callId);
    expect(r.attempts.map((a) => a.fqdn)).toEqual(["gw1.e2e.test", "gw2.e2e.test", "gw3.e2e.test"]);
    expect(r.attempts.map((a) => a.reason)).toEqual(["failover-code", "failover-code", "final"]);
    expect(r).toMatchObject({
      successfulCall: false,
      endedBy: "callee",
      trunkFullyQualifiedDomainName: "gw3.e2e.test",
    });
    expect([500, 504]).toContain(r.finalSipCode);
  });

  it("cancelled by the caller while ringing: 487, endedBy caller", async () => {
    const gw1 = await gateway("uas-ring-no-answer.xml", ports.gw1);
    const { result, callId } = await call("5550129", { mode: "cancel" });
    expect(result.exitCode, result.errors).toBe(0);
    await done(gw1);
    expect(await cdrOf(callId)).toMatchObject({
      finalSipCode: 487,
      endedBy: "caller",
      successfulCall: false,
      attempts: [expect.objectContaining({ fqdn: "gw1.e2e.test", reason: "cancelled" })],
    });
  });

  it("timed out: Timer B at a gateway that never answers, 408 from the proxy", async () => {
    const { callId } = await call("+15550001111", { mode: "rejected" });
    const r: CallRecord = await cdrOf(callId);
    expect(r).toMatchObject({
      finalSipCode: 408,
      endedBy: "proxy",
      successfulCall: false,
      trunkFullyQualifiedDomainName: "silent.e2e.test",
      voiceRoute: "Silent",
      attempts: [
        expect.objectContaining({
          fqdn: "silent.e2e.test",
          reason: "timeout",
          timer: "B",
          finalSipCode: null,
        }),
      ],
    });
  });
});
