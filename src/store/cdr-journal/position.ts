// Journal positions: `<segment>:<offset>`, both zero-padded so that string order is commit order
// (readers may compare positions as strings). The offset is the byte just *after* an entry's
// newline, so "entries after position p" is simply "the bytes from p on" — no entry has to be
// re-read to resume. `00000002:000000000000` and the end of segment 1 name the same point.

const SEGMENT_DIGITS = 8;
const OFFSET_DIGITS = 12;
const POSITION_RE = /^(\d{8}):(\d{12})$/;

export interface JournalPosition {
  readonly segment: number;
  readonly offset: number;
}

export function formatPosition(segment: number, offset: number): string {
  return `${String(segment).padStart(SEGMENT_DIGITS, "0")}:${String(offset).padStart(OFFSET_DIGITS, "0")}`;
}

/** Parses the syntax only (whether the journal could have produced it is the journal's call). */
export function parsePosition(position: string): JournalPosition | null {
  const m = POSITION_RE.exec(position);
  if (m === null) return null;
  const segment = Number(m[1]);
  const offset = Number(m[2]);
  if (segment < 1) return null;
  return { segment, offset };
}

/** Commit order of two positions of the same journal (negative: a before b). */
export function comparePositions(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
