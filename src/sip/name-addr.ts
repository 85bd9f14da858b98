// name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1):
//   [ display-name ] "<" addr-spec ">" *( ";" param )   or   addr-spec *( ";" param )
// Used by From, To, Contact, Route, Record-Route, P-Asserted-Identity, Diversion,
// History-Info and Referred-By.
import { isWs, TOKEN } from "./char-classes.js";
import { type Params, parseParams, scanQuoted, skipWs, unquote } from "./text-scan.js";
import { parseUri, type Uri } from "./uri.js";

export interface NameAddr {
  /** Display name, unquoted; null when absent. */
  readonly displayName: string | null;
  readonly uri: Uri;
  /** The URI text exactly as written between the angle brackets (or the bare addr-spec). */
  readonly uriText: string;
  /** Header parameters after the address (`tag`, `expires`, `q`, `lr` is a URI param), lower-cased names. */
  readonly params: Params;
  /** Shortcut for `params.get("tag")`. */
  readonly tag: string | null;
  /** The element text this value was parsed from. */
  readonly raw: string;
}

const NO_PARAMS: Params = new Map();

/**
 * Parses one name-addr or addr-spec element (already split from its list). Returns undefined
 * when it is malformed: unterminated quote (RFC 4475 §3.1.2.6), whitespace inside the angle
 * brackets (§3.1.2.14), unquoted non-token display name (§3.1.2.15), or an addr-spec carrying
 * "?", "," or ";" that needed the angle-bracket form (§3.1.2.13, RFC 3261 §20.10).
 */
export function parseNameAddr(text: string): NameAddr | undefined {
  const s = text;
  let pos = skipWs(s, 0);
  let displayName: string | null = null;
  let uriText: string;
  if (pos < s.length && s.charCodeAt(pos) === 0x22) {
    const end = scanQuoted(s, pos);
    if (end === -1) return undefined;
    displayName = unquote(s.slice(pos, end));
    pos = skipWs(s, end);
    if (s.charCodeAt(pos) !== 0x3c) return undefined;
  }
  const lt = s.indexOf("<", pos);
  if (lt !== -1 && (displayName !== null || lt >= pos)) {
    if (displayName === null && lt > pos) {
      // display-name = *(token LWS): check the characters, collapse nothing.
      for (let i = pos; i < lt; i++) {
        const c = s.charCodeAt(i);
        if (!isWs(c) && (c > 255 || TOKEN[c] !== 1)) return undefined;
      }
      const name = s.slice(pos, lt).trim();
      displayName = name.length > 0 ? name : null;
    }
    const gt = s.indexOf(">", lt + 1);
    if (gt === -1) return undefined;
    uriText = s.slice(lt + 1, gt);
    pos = gt + 1;
  } else {
    // addr-spec form: the URI ends at the first ";" or whitespace; anything after is params.
    const start = pos;
    while (pos < s.length) {
      const c = s.charCodeAt(pos);
      if (c === 0x3b || isWs(c)) break;
      if (c === 0x3f || c === 0x2c) return undefined;
      pos++;
    }
    uriText = s.slice(start, pos);
  }
  const uri = parseUri(uriText);
  if (uri === undefined) return undefined;
  let params: Params = NO_PARAMS;
  pos = skipWs(s, pos);
  if (pos < s.length) {
    const map = new Map<string, string | null>();
    const end = parseParams(s, pos, map);
    if (end === -1 || skipWs(s, end) !== s.length) return undefined;
    params = map;
  }
  return { displayName, uri, uriText, params, tag: params.get("tag") ?? null, raw: text };
}
