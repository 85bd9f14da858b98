// URI dispatch: sip/sips (RFC 3261 §19.1), tel (RFC 3966), and any other absolute URI
// (RFC 3261 §19 allows them in Request-URI and name-addr; RFC 4475 §3.3.2-§3.3.4 expect a
// proxy to parse them and decide later, e.g. 416 Unsupported URI Scheme).
import { allIn, isWs, SCHEME_CHARS } from "./char-classes.js";
import { formatSipUri, parseSipUri, type SipUri } from "./sip-uri.js";
import { formatTelUri, parseTelUri, type TelUri } from "./tel-uri.js";

export type { SipUri } from "./sip-uri.js";
export type { TelUri } from "./tel-uri.js";

/** A URI of a scheme we do not interpret: kept as scheme plus opaque text. */
export interface AbsoluteUri {
  readonly kind: "absolute";
  /** Lower-cased scheme. */
  readonly scheme: string;
  readonly opaque: string;
  readonly raw: string;
}

export type Uri = SipUri | TelUri | AbsoluteUri;

function isAsciiAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** "sip" or "sips" when `text[0, colon)` is one of them in any letter case, without slicing. */
function sipSchemeOf(text: string, colon: number): "sip" | "sips" | undefined {
  if (colon !== 3 && colon !== 4) return undefined;
  if (
    (text.charCodeAt(0) | 0x20) !== 0x73 ||
    (text.charCodeAt(1) | 0x20) !== 0x69 ||
    (text.charCodeAt(2) | 0x20) !== 0x70
  )
    return undefined;
  if (colon === 3) return "sip";
  return (text.charCodeAt(3) | 0x20) === 0x73 ? "sips" : undefined;
}

/** Parses a URI; undefined when the text is not a well-formed URI. Never throws. */
export function parseUri(text: string): Uri | undefined {
  const colon = text.indexOf(":");
  if (colon <= 0 || !isAsciiAlpha(text.charCodeAt(0)) || !allIn(SCHEME_CHARS, text, 0, colon))
    return undefined;
  // sip/sips component scanners accept only their grammar's characters, so no extra pass is needed.
  const sipScheme = sipSchemeOf(text, colon);
  if (sipScheme !== undefined) return parseSipUri(text, sipScheme, colon);
  const scheme = text.slice(0, colon).toLowerCase();
  for (let i = colon + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // No whitespace, controls, quotes or angle brackets inside a URI (RFC 4475 §3.1.2.7, §3.1.2.8).
    if (c <= 0x20 || c === 0x7f || c === 0x22 || c === 0x3c || c === 0x3e || isWs(c)) return undefined;
  }
  if (scheme === "tel") return parseTelUri(text, colon);
  if (colon + 1 === text.length) return undefined;
  return { kind: "absolute", scheme, opaque: text.slice(colon + 1), raw: text };
}

/** Formats a URI from its components (what `parseUri` returns, or an edited copy of it). */
export function formatUri(uri: Uri): string {
  switch (uri.kind) {
    case "sip":
      return formatSipUri(uri);
    case "tel":
      return formatTelUri(uri);
    case "absolute":
      return uri.scheme + ":" + uri.opaque;
  }
}
