// A carrier's view of the CDR log (carrier-api.md "Which records a carrier sees"), read in commit
// order by the pull API, the CSV export, reconciliation and webhook delivery alike.
//
// How quality amendments appear: CDRs are immutable, and a late quality report is journalled as
// its own entry. At the amendment's position the record is presented again, as the log's
// `findById` merges it *now* (every report so far, `revision` = 1 + reports merged): same `id`,
// and the highest revision wins. So a carrier that has already taken a record sees it once more
// when quality arrives, and a de-duplicating carrier keeps the newer one.
import type { CallRecord } from "./call-record.js";
import type { CdrLogReader, CommittedEntry } from "./cdr-log.js";

export interface InviteRange {
  /** Epoch ms bounds on inviteDateTime: from inclusive, to exclusive. */
  readonly from: number | null;
  readonly to: number | null;
}

export interface FeedPage {
  readonly records: readonly CallRecord[];
  /** Position just after the last entry this page accounts for (null: nothing read yet). */
  readonly position: string | null;
  /** The log had nothing more (for this carrier and range) at the time of the read. */
  readonly exhausted: boolean;
}

/** Entries fetched per log read (at least; a page of 1000 reads 1001 at once). */
const READ_BATCH = 500;
const MAX_READ = 2000;
/** Entries a page may scan without finding its records before it answers with what it has. */
const SCAN_BUDGET = 50_000;

export function inRange(record: CallRecord, range: InviteRange): boolean {
  if (range.from === null && range.to === null) return true;
  const t = Date.parse(record.inviteDateTime);
  if (!Number.isFinite(t)) return false;
  return (range.from === null || t >= range.from) && (range.to === null || t < range.to);
}

export function visibleTo(record: CallRecord, carrierId: string): boolean {
  return record.carrierIds.includes(carrierId);
}

/** The record an entry presents to `carrierId` within `range`, or null. */
export async function projectEntry(
  log: CdrLogReader,
  committed: CommittedEntry,
  carrierId: string,
  range: InviteRange,
): Promise<CallRecord | null> {
  const { entry } = committed;
  let record: CallRecord | null;
  if (entry.kind === "cdr") record = entry.record;
  else record = await log.findById(entry.amendment.cdrId);
  if (record === null || !visibleTo(record, carrierId) || !inRange(record, range)) return null;
  return record;
}

function filterOf(range: InviteRange) {
  return {
    ...(range.from === null ? {} : { inviteFrom: range.from }),
    ...(range.to === null ? {} : { inviteTo: range.to }),
  };
}

/**
 * Up to `limit` records after `after`. Reads one record past the page to tell whether more is
 * committed now, so `exhausted` is exact unless the scan budget ran out first.
 */
export async function readCarrierPage(
  log: CdrLogReader,
  carrierId: string,
  after: string | null,
  limit: number,
  range: InviteRange,
): Promise<FeedPage> {
  const records: CallRecord[] = [];
  const filter = filterOf(range);
  // Entries the carrier cannot see are skipped for good (visibility of an entry never changes),
  // so a page may end after them.
  let position = after;
  let scanned = 0;
  for (;;) {
    // Enough for the rest of the page and the one record of look-ahead (when all are visible).
    const want = Math.max(READ_BATCH, Math.min(MAX_READ, limit - records.length + 1));
    const batch = await log.readAfter(position, want, filter);
    if (batch.length === 0) return { records, position, exhausted: true };
    for (const committed of batch) {
      const record = await projectEntry(log, committed, carrierId, range);
      if (record !== null) {
        if (records.length === limit) return { records, position, exhausted: false };
        records.push(record);
      }
      position = committed.position;
    }
    scanned += batch.length;
    if (scanned >= SCAN_BUDGET) return { records, position, exhausted: false };
  }
}

/** Every record for the carrier and range, page by page (constant memory: CSV, reconciliation). */
export async function* carrierRecords(
  log: CdrLogReader,
  carrierId: string,
  range: InviteRange,
  after: string | null = null,
): AsyncGenerator<CallRecord> {
  const filter = filterOf(range);
  let position = after;
  for (;;) {
    const batch = await log.readAfter(position, READ_BATCH, filter);
    if (batch.length === 0) return;
    for (const committed of batch) {
      const record = await projectEntry(log, committed, carrierId, range);
      if (record !== null) yield record;
      position = committed.position;
    }
  }
}

/** The record as a carrier receives it: without `carrierIds`, which would name other carriers. */
export function carrierView(record: CallRecord): Omit<CallRecord, "carrierIds"> {
  const { carrierIds: _hidden, ...view } = record;
  return view;
}
