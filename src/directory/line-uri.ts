// Assigned numbers (a user's `lineUri`): an E.164 number with an optional `;ext=` of 1-12
// digits (routing.md, inbound step 3). The config schema has already checked the shape.

export interface AssignedNumber {
  /** The E.164 part, with its `+`. */
  readonly number: string;
  /** The extension digits, or null. */
  readonly ext: string | null;
}

const LINE_URI = /^(\+\d{2,15})(?:;ext=(\d{1,12}))?$/i;

/** Parses `+14255550101` or `+14255550101;ext=0101`; null when it is not such a number. */
export function parseAssignedNumber(text: string): AssignedNumber | null {
  const m = LINE_URI.exec(text);
  if (m === null || m[1] === undefined) return null;
  return { number: m[1], ext: m[2] ?? null };
}

/** The canonical form used as a lookup key: `+number` or `+number;ext=digits` (lower-case `ext`). */
export function formatAssignedNumber(n: AssignedNumber): string {
  return n.ext === null ? n.number : `${n.number};ext=${n.ext}`;
}
