// One journal line = one CdrLogEntry as JSON. JSON.stringify escapes control characters, so a
// newline byte in a segment is always an entry boundary — which is what lets positions be byte
// offsets and lets a torn tail be recognised by its missing newline.
import type { CdrLogEntry } from "../../calls/call-record.js";

/**
 * The entry's line as text, without its newline (the journal writes it after the text). Kept a
 * string until its batch is committed: the batch's lines are encoded once, straight into the
 * commit's buffer (journal.ts), rather than one Buffer per entry and a concatenation.
 */
export function encodeEntry(entry: CdrLogEntry): string {
  return JSON.stringify(entry);
}

/** The entry on a line, or null when the line is not one (damaged, or not written by us). */
export function decodeEntry(line: Buffer): CdrLogEntry | null {
  let value: unknown;
  try {
    value = JSON.parse(line.toString("utf8"));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const v = value as { kind?: unknown; record?: unknown; amendment?: unknown };
  if (v.kind === "cdr") {
    const r = v.record as { id?: unknown; inviteDateTime?: unknown } | null | undefined;
    if (typeof r !== "object" || r === null) return null;
    if (typeof r.id !== "string" || typeof r.inviteDateTime !== "string") return null;
    return value as CdrLogEntry;
  }
  if (v.kind === "quality") {
    const a = v.amendment as { cdrId?: unknown; quality?: unknown } | null | undefined;
    if (typeof a !== "object" || a === null) return null;
    if (typeof a.cdrId !== "string" || typeof a.quality !== "object" || a.quality === null) return null;
    return value as CdrLogEntry;
  }
  return null;
}

/** Epoch ms of the entry's inviteDateTime (an amendment's: its record's), null when unknown. */
export function entryInviteTime(entry: CdrLogEntry): number | null {
  const iso = entry.kind === "cdr" ? entry.record.inviteDateTime : entry.amendment.inviteDateTime;
  if (iso === undefined) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}
