// Joining a late quality report to its CDR. CDRs are immutable once journalled (carrier-api.md):
// a report that arrives after the record was written is journalled as a `QualityAmendment`, and
// every reader (findById, the carrier API, webhooks, `cdr tail`) presents the merged record with
// the next revision. This is the one place that says how they merge.
import type { CallQuality, CallRecord, QualityAmendment } from "./call-record.js";

/**
 * The record with the amendment's quality merged in and `revision` + 1. Per direction, a report
 * in the amendment replaces the record's report for that direction: a report is one endpoint's
 * measurement of one stream, and mixing fields of two reports would publish numbers nobody
 * measured. A direction the amendment does not report (null) keeps what the record had.
 * An amendment for another record leaves the record unchanged.
 */
export function applyAmendment(record: CallRecord, amendment: QualityAmendment): CallRecord {
  if (amendment.cdrId !== record.id) return record;
  const quality: CallQuality = {
    caller: amendment.quality.caller ?? record.quality?.caller ?? null,
    callee: amendment.quality.callee ?? record.quality?.callee ?? null,
  };
  return { ...record, revision: record.revision + 1, quality };
}

/** Applies amendments in the order given (commit order). */
export function applyAmendments(record: CallRecord, amendments: readonly QualityAmendment[]): CallRecord {
  let merged = record;
  for (const amendment of amendments) merged = applyAmendment(merged, amendment);
  return merged;
}
