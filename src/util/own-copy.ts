// A string that holds only its own characters. V8 represents a substring of 13 or more
// characters as a slice that keeps its whole parent alive: a Call-ID or a header value taken
// from a parsed message would keep the message's full text for as long as it is stored. For
// what outlives the message (dialogs, calls held for hours), store an own copy. Prepending a
// character forces V8 to build a new flat string; the slice taken from it is detached from the
// message (its parent is the copy, one character longer). Any other engine just copies.
export function ownCopy<T extends string | null | undefined>(s: T): T {
  if (typeof s !== "string" || s.length < 13) return s;
  return ` ${s}`.slice(1) as T;
}
