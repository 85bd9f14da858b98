// A carrier's view of the CDR log (carrier-api.md "Which records a carrier sees"), read in commit
// order by the pull API, the CSV export, reconciliation and webhook delivery alike.
//
// How quality amendments appear: CDRs are immutable, and a late quality report is journalled as
// its own entry after its record. Readers present entries through a `CarrierWindow` (a page of the
// pull API, a webhook batch, the CSV export's look-ahead buffer), which shows each record once:
// an amendment whose record is in the same window is merged into it (the record carries the report,
// `revision` = 1 + reports merged), so a carrier that pulls after a late PUBLISH finds one record,
// with its quality. Only an amendment whose record was presented in an earlier window (an earlier
// page, a batch already delivered) presents the record again, as the log's `findById` merges it
// now: same `id`, higher revision — a carrier that already took the record sees it once more, and
// de-duplicating on `id` keeps the newer one.
import { applyAmendment } from "./amend.js";
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

function filterOf(range: InviteRange) {
  return {
    ...(range.from === null ? {} : { inviteFrom: range.from }),
    ...(range.to === null ? {} : { inviteTo: range.to }),
  };
}

/** What a window did with an entry: `full` means it was not taken (no room for a new record). */
export type WindowOutcome = "taken" | "skipped" | "full";

interface WindowSlot {
  record: CallRecord;
  /** The record came from `findById` (every amendment committed then), not from its own entry. */
  fromLog: boolean;
}

/**
 * The records that a run of consecutive log entries presents to one carrier, each record once,
 * in the order of its first presentation (commit order). See the header for amendments.
 */
export class CarrierWindow {
  private readonly slots = new Map<string, WindowSlot>();

  constructor(
    private readonly log: CdrLogReader,
    private readonly carrierId: string,
    private readonly range: InviteRange,
  ) {}

  /** Records in the window. */
  get size(): number {
    return this.slots.size;
  }

  records(): CallRecord[] {
    return [...this.slots.values()].map((s) => s.record);
  }

  /** Takes the oldest record out of the window (a sliding window's output). */
  shift(): CallRecord | undefined {
    const first = this.slots.entries().next();
    if (first.done === true) return undefined;
    const [id, slot] = first.value;
    this.slots.delete(id);
    return slot.record;
  }

  /**
   * Offers the next entry in commit order. `room`: whether the window may take a new record; an
   * amendment of a record already in the window never needs room. The caller advances its
   * position past the entry unless the answer is `full`.
   */
  async offer(committed: CommittedEntry, room: boolean): Promise<WindowOutcome> {
    const { entry } = committed;
    if (entry.kind === "cdr") {
      const record = entry.record;
      if (!visibleTo(record, this.carrierId) || !inRange(record, this.range)) return "skipped";
      // The same record twice in the log (a replayed spool): presented once.
      if (this.slots.has(record.id)) return "skipped";
      if (!room) return "full";
      this.slots.set(record.id, { record, fromLog: false });
      return "taken";
    }
    const { amendment } = entry;
    const slot = this.slots.get(amendment.cdrId);
    if (slot !== undefined) {
      if (slot.fromLog) {
        // findById may have run before this amendment was committed: read the record again.
        slot.record = (await this.log.findById(amendment.cdrId)) ?? slot.record;
      } else {
        slot.record = applyAmendment(slot.record, amendment);
      }
      return "taken";
    }
    const record = await this.log.findById(amendment.cdrId);
    if (record === null || !visibleTo(record, this.carrierId) || !inRange(record, this.range))
      return "skipped";
    if (!room) return "full";
    this.slots.set(record.id, { record, fromLog: true });
    return "taken";
  }
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
  const window = new CarrierWindow(log, carrierId, range);
  const filter = filterOf(range);
  // Entries the carrier cannot see are skipped for good (visibility of an entry never changes),
  // so a page may end after them; so may amendments of the page's own records (merged in).
  let position = after;
  let scanned = 0;
  for (;;) {
    // Enough for the rest of the page and the one record of look-ahead (when all are visible).
    const want = Math.max(READ_BATCH, Math.min(MAX_READ, limit - window.size + 1));
    const batch = await log.readAfter(position, want, filter);
    if (batch.length === 0) return { records: window.records(), position, exhausted: true };
    for (const committed of batch) {
      const outcome = await window.offer(committed, window.size < limit);
      if (outcome === "full") return { records: window.records(), position, exhausted: false };
      position = committed.position;
    }
    scanned += batch.length;
    if (scanned >= SCAN_BUDGET) return { records: window.records(), position, exhausted: false };
  }
}

/** How many records the CSV export and reconciliation hold back to merge late amendments. */
export const STREAM_WINDOW_RECORDS = 1000;

/**
 * Every record for the carrier and range, page by page (constant memory: CSV, reconciliation).
 * Records pass through a sliding window of `windowRecords`, so an amendment committed within that
 * many records of its record is merged into it rather than presenting the record twice.
 */
export async function* carrierRecords(
  log: CdrLogReader,
  carrierId: string,
  range: InviteRange,
  after: string | null = null,
  windowRecords = STREAM_WINDOW_RECORDS,
): AsyncGenerator<CallRecord> {
  const window = new CarrierWindow(log, carrierId, range);
  const filter = filterOf(range);
  let position = after;
  for (;;) {
    const batch = await log.readAfter(position, READ_BATCH, filter);
    if (batch.length === 0) break;
    for (const committed of batch) {
      await window.offer(committed, true);
      position = committed.position;
      while (window.size > windowRecords) {
        const record = window.shift();
        if (record !== undefined) yield record;
      }
    }
  }
  for (let record = window.shift(); record !== undefined; record = window.shift()) yield record;
}

/** The record as a carrier receives it: without `carrierIds`, which would name other carriers. */
export function carrierView(record: CallRecord): Omit<CallRecord, "carrierIds"> {
  const { carrierIds: _hidden, ...view } = record;
  return view;
}
