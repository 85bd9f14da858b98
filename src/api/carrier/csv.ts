// CSV export of CDRs (RFC 4180): a header row of the CDR field names, one row per record,
// `attempts` and `quality` as JSON text in one column each, null as an empty field. Rows are
// produced page by page from the log, so memory stays flat however many records there are.
import { Readable } from "node:stream";
import type { CallRecord } from "../../calls/call-record.js";
import { CALL_RECORD_FIELDS } from "../../calls/call-record.js";

/**
 * The columns a carrier gets: exactly the field names of carrier-api.md's CDR table, in its
 * order — what "a header row of the CDR field names" promises to spreadsheets and billing tools
 * that address columns by position. dialgate's own additions stay out: `carrierIds` (it would
 * name other carriers) and `revision` (the export shows each record once, with any late quality
 * data merged in; see carrier-feed.ts — should a record still appear twice, the later row is the
 * newer one).
 */
export const CARRIER_CSV_FIELDS = CALL_RECORD_FIELDS.filter((f) => f !== "carrierIds" && f !== "revision");

/**
 * A field that a spreadsheet would run as a formula (=, @, tab, CR, or +/- that is not a plain
 * number) is prefixed with `'` (OWASP "CSV injection"); E.164 numbers such as +14255550100 are
 * left as they are, since they are the data carriers reconcile on.
 */
function defuse(text: string): string {
  if (/^[=@\t\r]/.test(text)) return `'${text}`;
  if (/^[+-]/.test(text) && !/^[+-]\d+(?:[.;]\S*)?$/.test(text)) return `'${text}`;
  return text;
}

function field(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text: string;
  if (typeof value === "string") text = defuse(value);
  else if (typeof value === "number" || typeof value === "boolean") text = String(value);
  else text = JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvHeader(): string {
  return `${CARRIER_CSV_FIELDS.join(",")}\r\n`;
}

export function csvRow(record: CallRecord): string {
  return `${CARRIER_CSV_FIELDS.map((f) => field(record[f])).join(",")}\r\n`;
}

/** Header, then rows grouped into chunks of about `chunkBytes` (fewer, larger writes). */
export async function* csvChunks(records: AsyncIterable<CallRecord>, chunkBytes = 64 * 1024) {
  let chunk = csvHeader();
  for await (const r of records) {
    chunk += csvRow(r);
    if (chunk.length >= chunkBytes) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * The export as a stream that has already produced its first chunk, so a log that cannot be read
 * fails here, before a byte is sent (an ordinary error answer: 503). A failure after the header
 * row went out errors the stream, and the HTTP server then cuts the response off without its last
 * chunk: the client sees a truncated transfer, never a CSV that looks complete.
 */
export async function csvStream(records: AsyncIterable<CallRecord>): Promise<Readable> {
  const chunks = csvChunks(records);
  const first = await chunks.next();
  return Readable.from(
    (async function* () {
      if (first.done !== true) yield first.value;
      yield* chunks;
    })(),
  );
}
