// Character classes of the RFC 3261 §25.1 grammar as lookup tables, so that the scanners
// below test a character with one array read instead of a regex (no backtracking on
// attacker-controlled input, and no allocation on the hot path).

function table(chars: string, ranges: readonly [number, number][] = []): Uint8Array {
  const t = new Uint8Array(256);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  for (const [from, to] of ranges) for (let c = from; c <= to; c++) t[c] = 1;
  return t;
}

const ALNUM: [number, number][] = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x61, 0x7a],
];

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") (§25.1) */
export const TOKEN = table("-.!%*_+`'~", ALNUM);
/** unreserved = alphanum / mark (§25.1) */
export const UNRESERVED = table("-_.!~*'()", ALNUM);
/** user = 1*( unreserved / escaped / user-unreserved ) (§25.1); "#" tolerated, common in the wild. */
export const USER_CHARS = table("-_.!~*'()&=+$,;?/%#", ALNUM);
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) (§25.1) */
export const PASSWORD_CHARS = table("-_.!~*'()&=+$,%", ALNUM);
/** paramchar = param-unreserved / unreserved / escaped (§25.1) */
export const URI_PARAM_CHARS = table("-_.!~*'()[]/:&+$%", ALNUM);
/** hname / hvalue = hnv-unreserved / unreserved / escaped (§25.1) */
export const URI_HEADER_CHARS = table("-_.!~*'()[]/?:+$%", ALNUM);
/** hostname characters; "_" tolerated (seen in real deployments, harmless). */
export const HOST_CHARS = table("-._", ALNUM);
/** Characters of an IPv6 reference between the brackets (§25.1 IPv6reference). */
export const IPV6_CHARS = table(":.", [
  [0x30, 0x39],
  [0x41, 0x46],
  [0x61, 0x66],
]);
/** word (Call-ID) = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}" ) */
export const WORD_CHARS = table("-.!%*_+`'~()<>:\\\"/[]?{}", ALNUM);
/** Characters allowed in a generic-param value that is not a quoted-string (token / host). */
export const GEN_VALUE_CHARS = table("-.!%*_+`'~[]:", ALNUM);
/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1) */
export const SCHEME_CHARS = table("+-.", ALNUM);

export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** True when every character of `s[from, to)` is in `t` (and below 256). */
export function allIn(t: Uint8Array, s: string, from = 0, to = s.length): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || t[c] !== 1) return false;
  }
  return true;
}
