// How `dialgate cdr tail` shows a CDR: one line per call, in fixed columns (so a followed
// stream stays aligned), with the facts an operator looks at first — when, who called whom
// over which trunk, how it ended and how long it lasted. Pure: records in, text out.
import type { CallRecord } from "../calls/call-record.js";

interface Column {
  readonly title: string;
  readonly width: number;
  readonly value: (r: CallRecord) => string;
  readonly alignRight?: boolean;
}

const COLUMNS: readonly Column[] = [
  { title: "INVITE (UTC)", width: 23, value: (r) => r.inviteDateTime.replace("T", " ").replace(/Z$/, "") },
  { title: "TYPE", width: 20, value: (r) => r.callType },
  { title: "CALLER", width: 16, value: (r) => r.callerNumber ?? "-" },
  { title: "CALLEE", width: 16, value: (r) => r.calleeNumber ?? r.dialedNumber ?? "-" },
  { title: "USER", width: 22, value: (r) => r.userPrincipalName ?? r.userId ?? "-" },
  { title: "TRUNK", width: 22, value: (r) => r.trunkFullyQualifiedDomainName ?? "-" },
  { title: "CODE", width: 4, value: (r) => String(r.finalSipCode), alignRight: true },
  { title: "RESULT", width: 20, value: (r) => r.finalSipCodePhrase },
  { title: "DUR", width: 6, value: (r) => (r.successfulCall ? `${r.duration}s` : "-"), alignRight: true },
  { title: "BY", width: 6, value: (r) => r.endedBy },
  { title: "TRIES", width: 5, value: (r) => String(r.attempts.length), alignRight: true },
  { title: "MOS", width: 4, value: mos, alignRight: true },
  { title: "ID", width: 36, value: (r) => (r.revision > 1 ? `${r.id} (rev ${r.revision})` : r.id) },
];

function mos(r: CallRecord): string {
  const values = [r.quality?.caller?.mosLq, r.quality?.callee?.mosLq].filter(
    (v): v is number => typeof v === "number",
  );
  return values.length === 0 ? "-" : Math.min(...values).toFixed(1);
}

function cell(text: string, column: Column, last: boolean): string {
  // Values come from the network (numbers, display names): never let one carry a control
  // character or a newline into the operator's terminal.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, "?");
  if (last) return clean;
  const fitted = clean.length > column.width ? `${clean.slice(0, column.width - 1)}…` : clean;
  return column.alignRight ? fitted.padStart(column.width) : fitted.padEnd(column.width);
}

export function cdrTableHeader(): string {
  return COLUMNS.map((c, i) => cell(c.title, c, i === COLUMNS.length - 1)).join("  ");
}

export function cdrTableRow(record: CallRecord): string {
  return COLUMNS.map((c, i) => cell(c.value(record), c, i === COLUMNS.length - 1)).join("  ");
}
