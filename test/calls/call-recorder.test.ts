// The call recorder's pure core: events in, CDRs out, on an injected clock and timer service,
// into a collecting sink (the real journal is exercised end to end in test/e2e/cdr-*.test.ts).
import { describe, expect, it } from "vitest";
import type { CallRecord, CdrLogEntry, QualityMetrics } from "../../src/calls/call-record.js";
import { CallRecorder, type CallRecorderSettings } from "../../src/calls/call-recorder.js";
import type { CdrSink } from "../../src/calls/cdr-log.js";
import { type CallEvent, CallEventBus } from "../../src/calls/events.js";
import type { CallContext, RouteTarget } from "../../src/routing/decision.js";
import { ManualClock } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";
import { ManualTimerService } from "../support/manual-timer-service.js";

/** Keeps what was appended; `failNext` makes the next N appends reject (a full disk). */
class CollectingSink implements CdrSink {
  readonly entries: CdrLogEntry[] = [];
  failNext = 0;
  attempts = 0;
  append(entry: CdrLogEntry): Promise<string> {
    this.attempts++;
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error("ENOSPC: no space left on device"));
    }
    this.entries.push(entry);
    return Promise.resolve(String(this.entries.length));
  }
  get records(): CallRecord[] {
    return this.entries.flatMap((e) => (e.kind === "cdr" ? [e.record] : []));
  }
}

const T0 = Date.UTC(2026, 11, 2, 18, 0, 0, 0);

function setup(settings: Partial<CallRecorderSettings> = {}) {
  const clock = new ManualClock(T0);
  const timers = new ManualTimerService();
  const sink = new CollectingSink();
  const expired: string[] = [];
  let n = 0;
  const recorder = new CallRecorder({
    sink,
    clock,
    scheduler: timers,
    logger: silentLogger(),
    newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`,
    settings,
    onCallExpired: (id) => expired.push(id),
  });
  const bus = new CallEventBus();
  recorder.attach(bus);
  /** Emits an event `dt` ms after the previous one (the clock moves with it). */
  const emit = (dt: number, e: DistributiveOmit<CallEvent, "at" | "callId"> & { callId?: string }) => {
    clock.advance(dt);
    timers.advance(dt);
    bus.emit({ callId: "call-1", ...e, at: clock.now() } as CallEvent);
  };
  const settle = () => new Promise((r) => setImmediate(r));
  return { clock, timers, sink, recorder, emit, settle, expired };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const gw = (fqdn: string, carrier: string | null, voiceRoute = "Main"): RouteTarget => ({
  requestUri: `sip:+14255550123@${fqdn}:5061;user=phone`,
  destination: { host: "10.0.0.1", port: 5061, transport: "udp" },
  label: fqdn,
  gateway: fqdn,
  carrier,
  voiceRoute,
});
const GW1 = gw("sbc1.contoso.com", "acme");
const GW2 = gw("sbc2.contoso.com", "globex");
const GW3 = gw("sbc3.contoso.com", null, "Backup");

const OUT: CallContext = {
  direction: "dr_out",
  tenantId: "contoso",
  callerUserId: "alice@contoso.com",
  calleeUserId: null,
  callerNumber: "+14255550100",
  dialledNumber: "5550123",
  normalizedNumber: "+14255550123",
  gatewayFqdn: null,
  calleeNumber: "+14255550123",
  userPrincipalName: "alice@contoso.com",
  userDisplayName: "Alice",
  matchingRule: "7digit",
  effectiveTenantDialPlanName: "contoso_Redmond",
  pstnUsage: "US",
  gatewayCarrier: null,
  numberCarriers: ["numbersco"],
};

const iso = (ms: number) => new Date(ms).toISOString();

describe("call recorder: one CDR per call, every way a call ends", () => {
  it("answered, then hung up by the caller: times, duration, route, trunk, carriers", async () => {
    const { emit, sink, settle } = setup();
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(5, { type: "attempt-sent", step: 0, target: GW1 });
    emit(100, { type: "provisional", step: 0, target: GW1, status: 180 });
    emit(1000, { type: "answered", step: 0, target: GW1, status: 200, reason: "OK" });
    emit(62_400, { type: "ended", by: "caller" });
    await settle();
    expect(sink.records).toHaveLength(1);
    const r = sink.records[0]!;
    expect(r).toMatchObject({
      id: "00000000-0000-4000-8000-000000000001",
      correlationId: "call-1",
      tenantId: "contoso",
      userId: "alice@contoso.com",
      userPrincipalName: "alice@contoso.com",
      userDisplayName: "Alice",
      callType: "dr_out",
      callerNumber: "+14255550100",
      calleeNumber: "+14255550123",
      dialedNumber: "5550123",
      matchingRule: "7digit",
      effectiveTenantDialPlanName: "contoso_Redmond",
      voiceRoute: "Main",
      pstnUsage: "US",
      trunkFullyQualifiedDomainName: "sbc1.contoso.com",
      carrierId: "acme",
      carrierIds: ["acme", "numbersco"],
      inviteDateTime: iso(T0),
      startDateTime: iso(T0 + 1105),
      failureDateTime: null,
      endDateTime: iso(T0 + 63_505),
      duration: 62,
      successfulCall: true,
      finalSipCode: 200,
      finalSipCodePhrase: "OK",
      endedBy: "caller",
      revision: 1,
    });
    expect(r.attempts).toEqual([
      { fqdn: "sbc1.contoso.com", startDateTime: iso(T0 + 5), finalSipCode: 200, reason: "answered" },
    ]);
    expect(r.quality).toBeUndefined();
  });

  it("hung up by the callee", async () => {
    const { emit, sink, settle } = setup();
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "attempt-sent", step: 0, target: GW1 });
    emit(500, { type: "answered", step: 0, target: GW1, status: 200 });
    emit(2_600, { type: "ended", by: "callee" });
    await settle();
    expect(sink.records[0]).toMatchObject({ endedBy: "callee", duration: 3, finalSipCodePhrase: "OK" });
  });

  it("refused by the router (404 no route): a CDR with the tenant, user and numbers", async () => {
    const { emit, sink, settle } = setup();
    emit(0, { type: "received", method: "INVITE", call: { ...OUT, pstnUsage: null } });
    emit(2, { type: "rejected", status: 404, reason: "No Route Found" });
    await settle();
    expect(sink.records[0]).toMatchObject({
      tenantId: "contoso",
      userId: "alice@contoso.com",
      successfulCall: false,
      finalSipCode: 404,
      finalSipCodePhrase: "No Route Found",
      endedBy: "proxy",
      startDateTime: iso(T0 + 2),
      failureDateTime: iso(T0 + 2),
      endDateTime: null,
      duration: 0,
      attempts: [],
      trunkFullyQualifiedDomainName: null,
      carrierIds: ["numbersco"],
    });
  });

  it("writes nothing for a digest challenge (no call context, nothing tried); the retry is the call", async () => {
    const { emit, sink, settle, recorder } = setup();
    emit(0, { type: "received", method: "INVITE", call: null });
    emit(1, { type: "rejected", status: 407, reason: "Proxy Authentication Required" });
    emit(50, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "rejected", status: 404, reason: "No Route Found" });
    await settle();
    expect(sink.records.map((r) => r.finalSipCode)).toEqual([404]);
    expect(recorder.stats.unexpectedEvents).toBe(0);
  });

  it("busy at the gateway (486, no failover): endedBy callee, the attempt's code is final", async () => {
    const { emit, sink, settle } = setup();
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "attempt-sent", step: 0, target: GW1 });
    emit(300, { type: "attempt-failed", step: 0, target: GW1, status: 486, cause: "response" });
    emit(0, { type: "rejected", status: 486, reason: "Busy Here" });
    await settle();
    expect(sink.records[0]).toMatchObject({
      finalSipCode: 486,
      endedBy: "callee",
      trunkFullyQualifiedDomainName: "sbc1.contoso.com",
      carrierId: "acme",
      attempts: [{ fqdn: "sbc1.contoso.com", finalSipCode: 486, reason: "final" }],
    });
  });

  it("failed over (503, failover timer, transport) and answered: every attempt with its reason", async () => {
    const { emit, sink, settle } = setup();
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "attempt-sent", step: 0, target: GW1 });
    emit(100, { type: "attempt-failed", step: 0, target: GW1, status: 503, cause: "response" });
    emit(0, { type: "attempt-sent", step: 1, target: GW2 });
    emit(2000, { type: "attempt-failed", step: 1, target: GW2, status: null, cause: "failover-timer" });
    emit(0, { type: "attempt-sent", step: 2, target: GW3 });
    emit(400, { type: "answered", step: 2, target: GW3, status: 200, reason: "OK" });
    emit(5000, { type: "ended", by: "callee" });
    await settle();
    const r = sink.records[0]!;
    expect(r.attempts).toEqual([
      { fqdn: "sbc1.contoso.com", startDateTime: iso(T0 + 1), finalSipCode: 503, reason: "failover-code" },
      {
        fqdn: "sbc2.contoso.com",
        startDateTime: iso(T0 + 101),
        finalSipCode: null,
        reason: "failover-timer",
      },
      { fqdn: "sbc3.contoso.com", startDateTime: iso(T0 + 2101), finalSipCode: 200, reason: "answered" },
    ]);
    expect(r).toMatchObject({
      trunkFullyQualifiedDomainName: "sbc3.contoso.com",
      voiceRoute: "Backup",
      carrierId: null,
      carrierIds: ["acme", "globex", "numbersco"],
      duration: 5,
    });
  });

  it("every gateway failed over: the caller's 500 (from a 503) is the callee's doing", async () => {
    const { emit, sink, settle } = setup();
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "attempt-sent", step: 0, target: GW1 });
    emit(10, { type: "attempt-failed", step: 0, target: GW1, status: null, cause: "transport" });
    emit(0, { type: "attempt-sent", step: 1, target: GW2 });
    emit(10, { type: "attempt-failed", step: 1, target: GW2, status: 503, cause: "response" });
    emit(0, { type: "rejected", status: 500, reason: "Server Internal Error" });
    await settle();
    expect(sink.records[0]).toMatchObject({
      finalSipCode: 500,
      endedBy: "callee",
      trunkFullyQualifiedDomainName: "sbc2.contoso.com",
      attempts: [{ reason: "transport" }, { reason: "final", finalSipCode: 503 }],
    });
  });

  it("cancelled by the caller while ringing: 487, endedBy caller, the pending attempt cancelled", async () => {
    const { emit, sink, settle, recorder } = setup();
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "attempt-sent", step: 0, target: GW1 });
    emit(100, { type: "provisional", step: 0, target: GW1, status: 180 });
    emit(3000, { type: "cancelled" });
    // The gateway's 487 arrives after the end: absorbed, not an odd sequence.
    emit(20, { type: "attempt-failed", step: 0, target: GW1, status: null, cause: "cancelled" });
    await settle();
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]).toMatchObject({
      finalSipCode: 487,
      finalSipCodePhrase: "Request Terminated",
      endedBy: "caller",
      successfulCall: false,
      failureDateTime: iso(T0 + 3101),
      attempts: [{ reason: "cancelled", finalSipCode: null }],
    });
    expect(recorder.stats.unexpectedEvents).toBe(0);
  });

  it("timed out: Timer B on every gateway, then 408 from the proxy; the timer is on the attempt", async () => {
    const { emit, sink, settle } = setup();
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "attempt-sent", step: 0, target: GW1 });
    emit(32_000, { type: "attempt-failed", step: 0, target: GW1, status: null, cause: "timeout" });
    emit(0, { type: "transaction-timeout", timer: "B" });
    emit(0, { type: "rejected", status: 408, reason: "Request Timeout" });
    await settle();
    expect(sink.records[0]).toMatchObject({
      finalSipCode: 408,
      endedBy: "proxy",
      attempts: [{ reason: "timeout", timer: "B", finalSipCode: null }],
    });
  });

  it("timed out: Timer C while ringing", async () => {
    const { emit, sink, settle } = setup();
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "attempt-sent", step: 0, target: GW1 });
    emit(10, { type: "provisional", step: 0, target: GW1, status: 180 });
    emit(180_500, { type: "attempt-failed", step: 0, target: GW1, status: null, cause: "timeout" });
    emit(0, { type: "transaction-timeout", timer: "C" });
    emit(0, { type: "rejected", status: 408, reason: "Request Timeout" });
    await settle();
    expect(sink.records[0]?.attempts[0]).toMatchObject({ reason: "timeout", timer: "C" });
  });

  it("forked to two contacts: the one that answered carries the call, the other was cancelled", async () => {
    const { emit, sink, settle } = setup();
    const phone = (n: number): RouteTarget => ({
      requestUri: `sip:bob@10.1.1.${n}:5060`,
      destination: { host: `10.1.1.${n}`, port: 5060, transport: "udp" },
      label: `bob@contoso.com sip:bob@10.1.1.${n}:5060`,
      gateway: null,
    });
    const inbound: CallContext = {
      direction: "dr_in",
      tenantId: "contoso",
      callerUserId: null,
      calleeUserId: "bob@contoso.com",
      callerNumber: "+12065550199",
      dialledNumber: "+14255550101",
      normalizedNumber: "+14255550101",
      gatewayFqdn: "sbc1.contoso.com",
      calleeNumber: "+14255550101",
      userPrincipalName: "bob@contoso.com",
      userDisplayName: "Bob",
      gatewayCarrier: "acme",
      numberCarriers: [],
    };
    emit(0, { type: "received", method: "INVITE", call: inbound });
    emit(1, { type: "attempt-sent", step: 0, target: phone(1) });
    emit(0, { type: "attempt-sent", step: 0, target: phone(2) });
    emit(900, { type: "answered", step: 0, target: phone(2), status: 200 });
    emit(10, { type: "attempt-failed", step: 0, target: phone(1), status: null, cause: "cancelled" });
    emit(4000, { type: "ended", by: "caller" });
    await settle();
    expect(sink.records[0]).toMatchObject({
      callType: "dr_in",
      userId: "bob@contoso.com",
      trunkFullyQualifiedDomainName: "sbc1.contoso.com",
      carrierId: "acme",
      carrierIds: ["acme"],
      attempts: [{ reason: "cancelled" }, { reason: "answered", finalSipCode: 200 }],
      duration: 4,
    });
  });

  it("ended by the proxy: a dialog whose BYE never comes is closed at the maximum call duration", async () => {
    const { emit, sink, settle, recorder, expired, timers, clock } = setup({
      maxCallDurationMs: 60_000,
      sweepIntervalMs: 1000,
    });
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "attempt-sent", step: 0, target: GW1 });
    emit(500, { type: "answered", step: 0, target: GW1, status: 200 });
    clock.advance(59_000);
    timers.advance(59_000);
    await settle();
    expect(sink.records).toHaveLength(0);
    clock.advance(1000);
    timers.advance(1000);
    await settle();
    expect(sink.records[0]).toMatchObject({ endedBy: "proxy", duration: 60, successfulCall: true });
    expect(expired).toEqual(["call-1"]);
    expect(recorder.stats.callsExpired).toBe(1);
    // The BYE that finally comes is noted, not recorded twice.
    emit(5000, { type: "ended", by: "caller" });
    await settle();
    expect(sink.records).toHaveLength(1);
  });

  it("ended by the proxy at shutdown: calls still up are closed and flushed before close resolves", async () => {
    const { emit, sink, recorder } = setup();
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "attempt-sent", step: 0, target: GW1 });
    emit(500, { type: "answered", step: 0, target: GW1, status: 200 });
    emit(0, { type: "received", method: "INVITE", call: OUT, callId: "call-2" });
    emit(2000, { type: "attempt-sent", step: 0, target: GW2, callId: "call-2" });
    expect(await recorder.close(1000)).toBe(true);
    const byId = new Map(sink.records.map((r) => [r.correlationId, r]));
    expect(byId.get("call-1")).toMatchObject({ endedBy: "proxy", successfulCall: true, duration: 2 });
    expect(byId.get("call-2")).toMatchObject({ endedBy: "proxy", successfulCall: false, finalSipCode: 503 });
  });

  it("types transfers and unassigned-number forwards from the router's context", async () => {
    const { emit, sink, settle } = setup();
    emit(0, { type: "received", method: "INVITE", call: { ...OUT, direction: "dr_out_user_transfer" } });
    emit(1, { type: "rejected", status: 480, reason: "Temporarily Unavailable" });
    emit(0, {
      type: "received",
      method: "INVITE",
      callId: "call-2",
      call: {
        ...OUT,
        direction: "dr_unassigned_in",
        gatewayFqdn: "sbc2.contoso.com",
        gatewayCarrier: "globex",
      },
    });
    emit(1, { type: "rejected", status: 404, reason: "Not Found", callId: "call-2" });
    await settle();
    expect(sink.records.map((r) => [r.callType, r.trunkFullyQualifiedDomainName])).toEqual([
      ["dr_out_user_transfer", null],
      ["dr_unassigned_in", "sbc2.contoso.com"],
    ]);
  });
});

describe("call recorder: odd event sequences are counted, never thrown", () => {
  it("a BYE for an unknown call, events after the end, a second INVITE on a live Call-ID", async () => {
    const { emit, sink, settle, recorder } = setup();
    emit(0, { type: "ended", by: "caller", callId: "nobody" });
    emit(0, { type: "answered", step: 0, target: GW1, status: 200, callId: "nobody" });
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(0, { type: "ended", by: "caller" }); // never answered
    emit(0, { type: "attempt-failed", step: 3, target: GW2, status: 500, cause: "response" }); // never sent
    emit(0, { type: "rejected", status: 404, reason: "No Route Found" });
    emit(0, { type: "rejected", status: 404, reason: "No Route Found" }); // twice
    emit(0, { type: "cancelled" }); // after the end
    await settle();
    expect(sink.records).toHaveLength(1);
    expect(recorder.stats.unexpectedEvents).toBe(7);
  });

  it("ignores non-INVITE received events (the edge reports only INVITEs today)", async () => {
    const { emit, recorder } = setup();
    emit(0, { type: "received", method: "MESSAGE", call: null });
    expect(recorder.stats.callsInProgress).toBe(0);
  });
});

describe("call recorder: never loses a CDR", () => {
  it("keeps a record the log refused and retries with backoff until it is in", async () => {
    const { emit, sink, settle, recorder, timers } = setup();
    sink.failNext = 3;
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "rejected", status: 404, reason: "No Route Found" });
    emit(0, { type: "received", method: "INVITE", call: OUT, callId: "call-2" });
    emit(1, { type: "rejected", status: 404, reason: "No Route Found", callId: "call-2" });
    await settle();
    expect(sink.records).toHaveLength(0);
    expect(recorder.stats.appendFailures).toBe(2);
    expect(recorder.stats.pendingWrites).toBe(2);
    timers.advance(100); // first retry: fails again
    await settle();
    expect(sink.records).toHaveLength(0);
    timers.advance(150); // not yet: backoff doubled to 200 ms
    await settle();
    expect(sink.attempts).toBe(3);
    timers.advance(50);
    await settle();
    await settle();
    expect(sink.records.map((r) => r.correlationId).sort()).toEqual(["call-1", "call-2"]);
    expect(recorder.stats).toMatchObject({ pendingWrites: 0, written: 2, appendFailures: 3 });
    expect(await recorder.close(100)).toBe(true);
  });

  it("tells the edge when a call's CDR is durable, and stops waiting after 2 s on a failing log", async () => {
    const { emit, sink, settle, recorder, timers } = setup();
    expect(recorder.recorded("call-1")).toBeNull();
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "attempt-sent", step: 0, target: GW1 });
    emit(500, { type: "answered", step: 0, target: GW1, status: 200 });
    emit(1000, { type: "ended", by: "caller" });
    await recorder.recorded("call-1");
    expect(sink.records).toHaveLength(1);

    sink.failNext = 1_000;
    emit(0, { type: "received", method: "INVITE", call: OUT, callId: "call-2" });
    emit(1, { type: "rejected", status: 404, reason: "No Route Found", callId: "call-2" });
    let released = false;
    void recorder.recorded("call-2")?.then(() => {
      released = true;
    });
    await settle();
    expect(released).toBe(false);
    timers.advance(2_000);
    await settle();
    expect(released).toBe(true);
    expect(sink.records).toHaveLength(1);
  });

  it("close gives up after its deadline but keeps nothing silently: the flush reports false", async () => {
    const { emit, sink, recorder } = setup();
    sink.failNext = 1_000;
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "rejected", status: 404, reason: "No Route Found" });
    expect(await recorder.close(50)).toBe(false);
    expect(sink.records).toHaveLength(0);
  });
});

describe("call recorder: quality joins the CDR of its Call-ID", () => {
  const report = (reporter: string, mos: number): QualityMetrics => ({
    reporter,
    source: "vq-rtcpxr",
    packetsSent: null,
    packetsReceived: null,
    packetsLost: null,
    packetLossRate: 0.05,
    jitterMs: 2,
    roundTripMs: 200,
    mosLq: mos,
    codec: "PCMU",
  });

  it("a report during the call and X-RTP-Stat on the BYE land in the CDR itself", async () => {
    const { emit, sink, settle, recorder } = setup();
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "attempt-sent", step: 0, target: GW1 });
    emit(500, { type: "answered", step: 0, target: GW1, status: 200 });
    expect(recorder.addQuality("call-1", "callee", report("sip:gw@sbc1", 3.9))).toBe(true);
    emit(2000, {
      type: "ended",
      by: "caller",
      rtpStats: [{ name: "X-RTP-Stat", value: "PS=1000,PR=990,PL=10,JI=3,LA=40,MOS=4.1,EN=PCMU,XZ=7" }],
    });
    await settle();
    const q = sink.records[0]?.quality;
    expect(q?.callee?.mosLq).toBe(3.9);
    expect(q?.caller).toMatchObject({
      reporter: "caller",
      source: "X-RTP-Stat",
      packetsSent: 1000,
      packetsReceived: 990,
      packetsLost: 10,
      packetLossRate: 0.01,
      jitterMs: 3,
      roundTripMs: 40,
      mosLq: 4.1,
      codec: "PCMU",
      raw: { XZ: "7" },
    });
  });

  it("a report after the CDR was written becomes a quality amendment, within the window only", async () => {
    const { emit, sink, settle, recorder, clock, timers } = setup({ lateQualityWindowMs: 30_000 });
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "attempt-sent", step: 0, target: GW1 });
    emit(500, { type: "answered", step: 0, target: GW1, status: 200 });
    emit(2000, { type: "ended", by: "callee" });
    await settle();
    const cdr = sink.records[0]!;
    clock.advance(29_000);
    timers.advance(29_000);
    expect(recorder.addQuality("call-1", "caller", report("sip:alice@contoso.com", 4.2))).toBe(true);
    await settle();
    expect(sink.entries[1]).toEqual({
      kind: "quality",
      amendment: {
        cdrId: cdr.id,
        correlationId: "call-1",
        receivedDateTime: iso(clock.now()),
        // Its record's invite time: time-filtered readers and the journal index place it there.
        inviteDateTime: cdr.inviteDateTime,
        quality: { caller: report("sip:alice@contoso.com", 4.2), callee: null },
      },
    });
    clock.advance(2_000);
    timers.advance(2_000);
    expect(recorder.addQuality("call-1", "callee", report("x", 3))).toBe(false);
    expect(recorder.addQuality("unknown", "callee", report("x", 3))).toBe(false);
    await settle();
    expect(sink.entries).toHaveLength(2);
    expect(recorder.stats).toMatchObject({
      qualityReports: 1,
      qualityReportsUnmatched: 2,
      amendmentsBuilt: 1,
    });
  });

  it("a BYE with garbage RTP statistics still ends the call, with no quality", async () => {
    const { emit, sink, settle } = setup();
    emit(0, { type: "received", method: "INVITE", call: OUT });
    emit(1, { type: "attempt-sent", step: 0, target: GW1 });
    emit(500, { type: "answered", step: 0, target: GW1, status: 200 });
    emit(1000, {
      type: "ended",
      by: "callee",
      rtpStats: [{ name: "P-RTP-Stat", value: "\u0000;;,,==garbage" }],
    });
    await settle();
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]?.quality).toBeUndefined();
  });
});
