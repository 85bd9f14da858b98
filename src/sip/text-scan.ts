// Small scanners shared by the header parsers. Header values reach them already unfolded
// (RFC 3261 §7.3.1), so linear whitespace is only SP and HTAB here. Every scanner is a
// single forward pass: no regex, no backtracking.
import { GEN_VALUE_CHARS, isDigit, isWs, TOKEN } from "./char-classes.js";

/** Ordered parameters with lower-cased names; a parameter without `=value` maps to null. */
export type Params = ReadonlyMap<string, string | null>;

export function skipWs(s: string, pos: number): number {
  while (pos < s.length && isWs(s.charCodeAt(pos))) pos++;
  return pos;
}

/** End of the token starting at `pos` (== pos when there is none). */
export function scanToken(s: string, pos: number): number {
  while (pos < s.length) {
    const c = s.charCodeAt(pos);
    if (c > 255 || TOKEN[c] !== 1) break;
    pos++;
  }
  return pos;
}

export function isToken(s: string): boolean {
  return s.length > 0 && scanToken(s, 0) === s.length;
}

/**
 * Scans a quoted-string (§25.1) whose opening quote is at `pos`. Returns the position after
 * the closing quote, or -1 when it is unterminated.
 */
export function scanQuoted(s: string, pos: number): number {
  for (let i = pos + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c)
      i++; // quoted-pair: skip the escaped character
    else if (c === 0x22) return i + 1;
  }
  return -1;
}

/**
 * True when every NUL in `s[from, to)` is the character of a quoted-pair inside a
 * quoted-string: `quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)` (§25.1) is the only place
 * the grammar lets a NUL into a header field (RFC 4475 §3.1.1.2 has one in a display name).
 * Says nothing about other characters: callers that care about CR and LF check them apart.
 */
export function nulsOnlyInQuotedPairs(s: string, from = 0, to = s.length): boolean {
  let quoted = false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x00) return false;
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x5c && quoted) i++; // a quoted-pair: its character, whatever it is, is text
  }
  return true;
}

/** The content of a quoted-string with its quoted-pairs resolved. */
export function unquote(quoted: string): string {
  const inner = quoted.slice(1, -1);
  if (inner.indexOf("\\") === -1) return inner;
  let out = "";
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i]!;
    if (ch === "\\" && i + 1 < inner.length) {
      out += inner[i + 1];
      i++;
    } else out += ch;
  }
  return out;
}

/**
 * Splits a header value into its comma-separated elements (§7.3.1), ignoring commas inside
 * quoted strings and `<...>`. Elements are trimmed; empty elements are kept as "" so that
 * strict parsers can reject them (RFC 4475 §3.1.2.1) while lenient callers drop them.
 */
export function splitCommaList(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  let angle = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      const end = scanQuoted(s, i);
      if (end === -1) break; // unterminated: the rest is one element, its parser rejects it
      i = end - 1;
    } else if (c === 0x3c) angle = true;
    else if (c === 0x3e) angle = false;
    else if (c === 0x2c && !angle) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(s.slice(start).trim());
  return out;
}

/**
 * Parses `*( SEMI generic-param )` (§25.1) starting at `pos`, tolerating LWS around ";" and
 * "=". Stops at the first character that does not start a parameter and returns its
 * position, or -1 when a parameter is malformed (empty name, bad value).
 */
export function parseParams(s: string, pos: number, out: Map<string, string | null>): number {
  for (;;) {
    const p = skipWs(s, pos);
    if (p >= s.length || s.charCodeAt(p) !== 0x3b) return p;
    const nameStart = skipWs(s, p + 1);
    const nameEnd = scanToken(s, nameStart);
    if (nameEnd === nameStart) return -1;
    const name = s.slice(nameStart, nameEnd).toLowerCase();
    let q = skipWs(s, nameEnd);
    if (q < s.length && s.charCodeAt(q) === 0x3d) {
      q = skipWs(s, q + 1);
      if (q < s.length && s.charCodeAt(q) === 0x22) {
        const end = scanQuoted(s, q);
        if (end === -1) return -1;
        out.set(name, unquote(s.slice(q, end)));
        pos = end;
      } else {
        let end = q;
        while (end < s.length) {
          const c = s.charCodeAt(end);
          if (c > 255 || GEN_VALUE_CHARS[c] !== 1) break;
          end++;
        }
        if (end === q) return -1;
        out.set(name, s.slice(q, end));
        pos = end;
      }
    } else {
      out.set(name, null);
      pos = nameEnd;
    }
  }
}

/**
 * Parses `1*DIGIT` as a non-negative integer no larger than `max`; undefined when the text is
 * not all digits or the value is out of range (RFC 4475 §3.1.2.4 overlarge scalars).
 */
export function parseBoundedInt(s: string, max: number): number | undefined {
  if (s.length === 0) return undefined;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return undefined;
    n = n * 10 + (c - 0x30);
    if (n > max) return undefined;
  }
  return n;
}

/** The `/\s/` test without a regex for ASCII text (the usual case). */
export function hasWhitespace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return true;
    if (c >= 0x80) return /\s/.test(s);
  }
  return false;
}

/** Largest CSeq sequence number: it MUST be less than 2**31 (RFC 3261 §8.1.1.5). */
export const MAX_CSEQ = 2 ** 31 - 1;
/** delta-seconds range used by Expires and the expires parameter (§20.19). */
export const MAX_DELTA_SECONDS = 2 ** 32 - 1;
