// One call as the recorder follows it through the edge's events, and the CDR built from it when
// it ends (carrier-api.md "The CDR"). Pure: times come from the events, the id from the caller.
import type { CallContext, RouteTarget } from "../routing/decision.js";
import type {
  CallAttempt,
  CallQuality,
  CallRecord,
  CallType,
  EndedBy,
  QualityMetrics,
} from "./call-record.js";
import { reasonPhrase } from "./reason-phrases.js";

export type AttemptEnd = "response" | "failover-timer" | "transport" | "cancelled" | "timeout";

export interface AttemptState {
  readonly step: number;
  readonly target: RouteTarget;
  readonly startedAt: number;
  /** Null while the attempt is pending. */
  end: AttemptEnd | "answered" | null;
  finalSipCode: number | null;
  /** Timer B or C when it timed out. */
  timer: string | null;
}

export interface CallState {
  readonly callId: string;
  readonly context: CallContext | null;
  readonly inviteAt: number;
  readonly attempts: AttemptState[];
  answered: {
    readonly at: number;
    readonly status: number;
    readonly reason: string;
    readonly attempt: AttemptState | null;
  } | null;
  quality: { caller: QualityMetrics | null; callee: QualityMetrics | null };
}

/** How the call ended, in the recorder's terms. */
export type CallEnd =
  | { readonly kind: "hung-up"; readonly at: number; readonly by: EndedBy }
  | {
      readonly kind: "failed";
      readonly at: number;
      readonly status: number;
      readonly reason: string;
      readonly endedBy: EndedBy;
    };

export function newCallState(callId: string, context: CallContext | null, inviteAt: number): CallState {
  return { callId, context, inviteAt, attempts: [], answered: null, quality: { caller: null, callee: null } };
}

/**
 * `new Date(ms).toISOString()`, with the part down to the second reused while the second
 * lasts: a CDR formats several times of one call, and the calls around it share the second
 * (bench:recorder showed the Date formatting among the recorder's largest own costs).
 */
export function iso(ms: number): string {
  // Fractions, invalid times and years outside 0000-9999 (a longer ISO form): the plain way.
  if (!Number.isInteger(ms) || ms < -62_167_219_200_000 || ms > 253_402_300_799_999)
    return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== isoCache.second) {
    isoCache.second = second;
    isoCache.prefix = new Date(second * 1000).toISOString().slice(0, 19);
  }
  const millis = ms - second * 1000;
  return `${isoCache.prefix}.${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`;
}

const isoCache = { second: Number.NaN, prefix: "" };

/**
 * Who ended a call that was never answered: the callee when the caller got (a translation of)
 * a gateway's or phone's own final response, else the proxy (router refusal, timers, transport
 * failures, no gateway left).
 */
export function failedEndedBy(call: CallState, status: number): EndedBy {
  const fromDownstream = call.attempts.some(
    (a) =>
      a.end === "response" &&
      // RFC 3261 §16.7 step 6: a 503 from downstream reaches the caller as 500.
      (a.finalSipCode === status || (status === 500 && a.finalSipCode === 503)),
  );
  return fromDownstream ? "callee" : "proxy";
}

/** The attempt that carried the call: the answered one, else the last one tried. */
function carryingAttempt(call: CallState): AttemptState | null {
  if (call.answered?.attempt) return call.answered.attempt;
  return call.attempts[call.attempts.length - 1] ?? null;
}

function attemptReason(call: CallState, a: AttemptState): string {
  switch (a.end) {
    case "answered":
      return "answered";
    case "response":
      // A final response followed by a later step means the code was a failover code.
      return call.attempts.some((b) => b.step > a.step) ? "failover-code" : "final";
    case null:
      // Still ringing when the call ended: another branch answered, or the caller cancelled.
      return "cancelled";
    default:
      return a.end;
  }
}

function callTypeOf(call: CallState): CallType {
  if (call.context !== null) return call.context.direction;
  // A router that gives no context (tests, custom routers): classify by what was tried.
  return call.attempts.some((a) => a.target.gateway !== null) ? "dr_out" : "internal";
}

function addUnique(list: string[], id: string | null | undefined): void {
  if (id !== null && id !== undefined && !list.includes(id)) list.push(id);
}

export function buildRecord(call: CallState, end: CallEnd, id: string): CallRecord {
  const ctx = call.context;
  const inbound = ctx?.direction === "dr_in" || ctx?.direction === "dr_unassigned_in";
  const carrying = carryingAttempt(call);
  const userId = ctx === null ? null : inbound ? ctx.calleeUserId : ctx.callerUserId;

  const carrierIds: string[] = [];
  addUnique(carrierIds, ctx?.gatewayCarrier);
  for (const a of call.attempts) addUnique(carrierIds, a.target.carrier);
  for (const c of ctx?.numberCarriers ?? []) addUnique(carrierIds, c);

  const attempts: CallAttempt[] = call.attempts.map((a) => ({
    fqdn: a.target.gateway ?? a.target.label,
    startDateTime: iso(a.startedAt),
    finalSipCode: a.finalSipCode,
    reason: attemptReason(call, a),
    ...(a.timer !== null ? { timer: a.timer } : {}),
  }));

  const answered = call.answered;
  const hungUp = end.kind === "hung-up" && answered !== null;
  const failureAt = end.kind === "failed" ? end.at : null;
  const quality: CallQuality | undefined =
    call.quality.caller !== null || call.quality.callee !== null
      ? { caller: call.quality.caller, callee: call.quality.callee }
      : undefined;

  return {
    id,
    correlationId: call.callId,
    tenantId: ctx?.tenantId ?? null,
    userId,
    userPrincipalName: ctx?.userPrincipalName ?? userId,
    userDisplayName: ctx?.userDisplayName ?? null,
    callType: callTypeOf(call),
    callerNumber: ctx?.callerNumber ?? null,
    calleeNumber: ctx?.calleeNumber ?? ctx?.normalizedNumber ?? null,
    dialedNumber: ctx?.dialledNumber ?? null,
    matchingRule: ctx?.matchingRule ?? null,
    effectiveTenantDialPlanName: ctx?.effectiveTenantDialPlanName ?? null,
    voiceRoute: carrying?.target.voiceRoute ?? null,
    pstnUsage: ctx?.pstnUsage ?? null,
    trunkFullyQualifiedDomainName: inbound ? (ctx?.gatewayFqdn ?? null) : (carrying?.target.gateway ?? null),
    carrierId: inbound ? (ctx?.gatewayCarrier ?? null) : (carrying?.target.carrier ?? null),
    carrierIds,
    attempts,
    inviteDateTime: iso(call.inviteAt),
    startDateTime: iso(hungUp ? answered.at : (failureAt ?? end.at)),
    failureDateTime: hungUp ? null : iso(failureAt ?? end.at),
    endDateTime: hungUp ? iso(end.at) : null,
    // Whole seconds from answer to end, rounded to the nearest second (a carrier's own count is
    // compared with a 1 s tolerance; rounding keeps the two within it either way they round).
    duration: hungUp ? Math.max(0, Math.round((end.at - answered.at) / 1000)) : 0,
    successfulCall: hungUp,
    finalSipCode: hungUp ? answered.status : end.kind === "failed" ? end.status : 500,
    finalSipCodePhrase: hungUp ? answered.reason : end.kind === "failed" ? end.reason : reasonPhrase(500),
    endedBy: end.kind === "hung-up" ? end.by : end.endedBy,
    revision: 1,
    ...(quality !== undefined ? { quality } : {}),
  };
}
