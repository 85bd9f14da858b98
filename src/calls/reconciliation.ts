// Duration reconciliation (carrier-api.md "Durations and reconciliation"): dialgate's CDRs
// against the durations a carrier measured, joined on correlationId (the caller leg's Call-ID).
// Pure: the caller gathers both sides; this decides, per call, matched / mismatch /
// missingAtCarrier / missingAtDialgate, and the totals.
//
// Decisions where the spec is silent:
// * A call belongs to the window of dialgate's inviteDateTime when dialgate has it, else of the
//   carrier's startDateTime. Carriers usually stamp the answer time, which can fall in the next
//   window; so the caller passes both sides from a window widened by a margin, and each call is
//   counted in exactly one window.
// * Only answered calls count on dialgate's side unless the carrier reported the same call:
//   carriers report what they bill, and an unanswered call nobody billed is not a discrepancy.
//   A carrier duration for a call dialgate saw unanswered is compared against 0 s.
// * Several CDRs with one correlationId (one Call-ID, several dialog attempts) add up.

import type { CallRecord } from "./call-record.js";
import type { CarrierDuration } from "./duration-store.js";

export type ReconciliationStatus = "matched" | "mismatch" | "missingAtCarrier" | "missingAtDialgate";

export interface ReconciledCall {
  readonly correlationId: string;
  readonly status: ReconciliationStatus;
  readonly dialgateSeconds: number | null;
  readonly carrierSeconds: number | null;
}

export interface ReconciliationTotals {
  readonly calls: number;
  readonly matched: number;
  readonly mismatch: number;
  readonly missingAtCarrier: number;
  readonly missingAtDialgate: number;
  readonly dialgateSeconds: number;
  readonly carrierSeconds: number;
}

export interface Reconciliation {
  readonly calls: readonly ReconciledCall[];
  readonly totals: ReconciliationTotals;
}

export interface ReconciliationInput {
  /** The carrier's CDRs (any revision; deduplicated by id here). */
  readonly records: Iterable<
    Pick<CallRecord, "id" | "correlationId" | "inviteDateTime" | "duration" | "successfulCall">
  >;
  readonly durations: Iterable<CarrierDuration>;
  /** The window, epoch ms: from inclusive, to exclusive (±Infinity: open). */
  readonly fromMs: number;
  readonly toMs: number;
  readonly toleranceSeconds: number;
}

/** How far outside the window each side is gathered, so boundary calls still pair up. */
export const RECONCILIATION_MARGIN_MS = 12 * 3600 * 1000;

interface DialgateCall {
  seconds: number;
  inviteMs: number;
  answered: boolean;
}

export function reconcile(input: ReconciliationInput): Reconciliation {
  const seen = new Set<string>();
  const dialgate = new Map<string, DialgateCall>();
  for (const r of input.records) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    const inviteMs = Date.parse(r.inviteDateTime);
    const call = dialgate.get(r.correlationId);
    if (call === undefined) {
      dialgate.set(r.correlationId, { seconds: r.duration, inviteMs, answered: r.successfulCall });
    } else {
      call.seconds += r.duration;
      call.inviteMs = Math.min(call.inviteMs, inviteMs);
      call.answered ||= r.successfulCall;
    }
  }
  const carrier = new Map<string, CarrierDuration>();
  for (const d of input.durations) carrier.set(d.correlationId, d);

  const rows: { call: ReconciledCall; at: number }[] = [];
  const ids = new Set([...dialgate.keys(), ...carrier.keys()]);
  for (const correlationId of ids) {
    const ours = dialgate.get(correlationId);
    const theirs = carrier.get(correlationId);
    const at = ours !== undefined ? ours.inviteMs : (theirs as CarrierDuration).startMs;
    if (!(at >= input.fromMs && at < input.toMs)) continue;
    let call: ReconciledCall;
    if (ours !== undefined && theirs !== undefined) {
      const diff = Math.abs(ours.seconds - theirs.durationSeconds);
      call = {
        correlationId,
        // "within a tolerance": a difference equal to it matches. The epsilon absorbs binary
        // fractions (10 s against a carrier's 9.7 s differ by 0.3000000000000007 in doubles).
        status: diff <= input.toleranceSeconds + 1e-9 ? "matched" : "mismatch",
        dialgateSeconds: ours.seconds,
        carrierSeconds: theirs.durationSeconds,
      };
    } else if (ours !== undefined) {
      if (!ours.answered) continue;
      call = {
        correlationId,
        status: "missingAtCarrier",
        dialgateSeconds: ours.seconds,
        carrierSeconds: null,
      };
    } else {
      const d = theirs as CarrierDuration;
      call = {
        correlationId,
        status: "missingAtDialgate",
        dialgateSeconds: null,
        carrierSeconds: d.durationSeconds,
      };
    }
    rows.push({ call, at });
  }
  rows.sort((a, b) => a.at - b.at || (a.call.correlationId < b.call.correlationId ? -1 : 1));
  const calls = rows.map((r) => r.call);
  const count = (s: ReconciliationStatus) => calls.filter((c) => c.status === s).length;
  return {
    calls,
    totals: {
      calls: calls.length,
      matched: count("matched"),
      mismatch: count("mismatch"),
      missingAtCarrier: count("missingAtCarrier"),
      missingAtDialgate: count("missingAtDialgate"),
      dialgateSeconds: calls.reduce((s, c) => s + (c.dialgateSeconds ?? 0), 0),
      carrierSeconds: calls.reduce((s, c) => s + (c.carrierSeconds ?? 0), 0),
    },
  };
}
