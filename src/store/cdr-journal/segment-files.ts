// On-disk layout of the journal named by `cdr.file` (config.md), e.g. `var/cdr.jsonl`:
//
//   var/cdr.00000001.jsonl     sealed segment (append-only JSON lines, one CdrLogEntry per line)
//   var/cdr.00000002.jsonl     ...
//   var/cdr.00000007.jsonl     the active segment: the highest number, the only one written
//   var/cdr.index.json         per sealed segment: positions, inviteDateTime range, count, bytes
//   var/cdr.00000007.jsonl.torn  bytes of a torn last line set aside on open (only after a crash)
//
// Segments sit beside `cdr.file` rather than in it so that a plain `tail -f var/cdr.*.jsonl`
// works and rotation never renames a file a reader may have open. The index is only a cache:
// it is rewritten atomically at each rotation and rebuilt from the segments when it is missing,
// stale or damaged, so no crash can leave it wrong.
import { basename, dirname, extname, join } from "node:path";

export interface JournalLayout {
  readonly dir: string;
  /** `cdr` for `var/cdr.jsonl`. */
  readonly stem: string;
  readonly indexFile: string;
}

export function journalLayout(file: string): JournalLayout {
  const dir = dirname(file);
  const ext = extname(file);
  const stem = ext === "" ? basename(file) : basename(file, ext);
  return { dir, stem, indexFile: join(dir, `${stem}.index.json`) };
}

export function segmentFileName(layout: JournalLayout, segment: number): string {
  return `${layout.stem}.${String(segment).padStart(8, "0")}.jsonl`;
}

export function segmentPath(layout: JournalLayout, segment: number): string {
  return join(layout.dir, segmentFileName(layout, segment));
}

/** The segment number of a directory entry, or null when it is not one of this journal's. */
export function segmentNumberOf(layout: JournalLayout, name: string): number | null {
  const prefix = `${layout.stem}.`;
  if (!name.startsWith(prefix) || !name.endsWith(".jsonl")) return null;
  const digits = name.slice(prefix.length, -".jsonl".length);
  if (!/^\d{8}$/.test(digits)) return null;
  const n = Number(digits);
  return n >= 1 ? n : null;
}
