// tel URIs (RFC 3966): tel:+1-201-555-0123;ext=1234 or tel:7042;phone-context=example.com
import { allIn, isDigit, isHex, URI_PARAM_CHARS } from "./char-classes.js";
import type { Params } from "./text-scan.js";
import { hasValidEscapes } from "./uri-escape.js";

export interface TelUri {
  readonly kind: "tel";
  readonly scheme: "tel";
  /** The number as written, visual separators included (`+1-201-555-0123`). */
  readonly number: string;
  /** The number without visual separators (`+12015550123`), RFC 3966 §5.1.1. */
  readonly digits: string;
  /** True for a global number (leading "+"), RFC 3966 §5.1.4. */
  readonly global: boolean;
  /** Parameters (`ext`, `isub`, `phone-context`, ...), names lower-cased. */
  readonly params: Params;
  readonly raw: string;
}

/** visual-separator = "-" / "." / "(" / ")" (RFC 3966 §3) */
function isVisualSeparator(c: number): boolean {
  return c === 0x2d || c === 0x2e || c === 0x28 || c === 0x29;
}

/**
 * Parses a tel URI; `schemeEnd` is the index of the ":". A local number without a
 * phone-context parameter is accepted (RFC 3966 §5.1.5 requires one, but numbers such as
 * `tel:1234` are common in the wild and a proxy gains nothing by refusing them).
 */
export function parseTelUri(text: string, schemeEnd: number): TelUri | undefined {
  let end = text.indexOf(";", schemeEnd + 1);
  if (end === -1) end = text.length;
  const number = text.slice(schemeEnd + 1, end);
  const global = number.charCodeAt(0) === 0x2b;
  let digits = global ? "+" : "";
  let digitCount = 0;
  for (let i = global ? 1 : 0; i < number.length; i++) {
    const c = number.charCodeAt(i);
    if (isVisualSeparator(c)) continue;
    // global-number-digits are DIGITs; local numbers also allow HEXDIG, "*" and "#".
    const ok = global ? isDigit(c) : isHex(c) || c === 0x2a || c === 0x23;
    if (!ok) return undefined;
    digits += number[i];
    digitCount++;
  }
  if (digitCount === 0) return undefined;
  const params = new Map<string, string | null>();
  let pos = end;
  while (pos < text.length) {
    let next = text.indexOf(";", pos + 1);
    if (next === -1) next = text.length;
    const eq = text.indexOf("=", pos + 1);
    const nameEnd = eq !== -1 && eq < next ? eq : next;
    if (nameEnd === pos + 1 || !allIn(URI_PARAM_CHARS, text, pos + 1, nameEnd)) return undefined;
    if (nameEnd < next && !allIn(URI_PARAM_CHARS, text, nameEnd + 1, next)) return undefined;
    const value = nameEnd < next ? text.slice(nameEnd + 1, next) : null;
    if (!hasValidEscapes(text.slice(pos + 1, next))) return undefined;
    params.set(text.slice(pos + 1, nameEnd).toLowerCase(), value);
    pos = next;
  }
  return { kind: "tel", scheme: "tel", number, digits, global, params, raw: text };
}

export function formatTelUri(uri: Omit<TelUri, "raw" | "kind" | "scheme" | "digits" | "global">): string {
  let out = "tel:" + uri.number;
  for (const [name, value] of uri.params) out += value === null ? ";" + name : ";" + name + "=" + value;
  return out;
}
