// Reading CDRs back from a CDR log the way a carrier would see them (amendments merged), and
// waiting for a call's record to be committed.
import { applyAmendments } from "../../src/calls/amend.js";
import type { CallRecord, QualityAmendment } from "../../src/calls/call-record.js";
import type { CdrLogReader } from "../../src/calls/cdr-log.js";
import { waitFor } from "./free-port.js";

export interface CdrSnapshot {
  /** Every CDR in commit order, with its quality amendments merged. */
  readonly records: CallRecord[];
  readonly amendments: QualityAmendment[];
}

export async function readCdrs(log: CdrLogReader): Promise<CdrSnapshot> {
  const records: CallRecord[] = [];
  const amendments: QualityAmendment[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await log.readAfter(after, 500);
    if (page.length === 0) break;
    for (const c of page) {
      if (c.entry.kind === "cdr") records.push(c.entry.record);
      else amendments.push(c.entry.amendment);
    }
    after = page[page.length - 1]!.position;
  }
  return {
    records: records.map((r) =>
      applyAmendments(
        r,
        amendments.filter((a) => a.cdrId === r.id),
      ),
    ),
    amendments,
  };
}

/** The CDR(s) of a Call-ID, once `accept` holds for them (default: one record exists). */
export async function waitForCdr(
  log: CdrLogReader,
  correlationId: string,
  accept: (r: CallRecord) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<CallRecord> {
  let found: CallRecord | undefined;
  await waitFor(
    async () => {
      const { records } = await readCdrs(log);
      found = records.find((r) => r.correlationId === correlationId && accept(r));
      return found !== undefined;
    },
    timeoutMs,
    `the CDR of ${correlationId}`,
  );
  return found!;
}
