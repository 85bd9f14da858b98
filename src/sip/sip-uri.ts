// SIP and SIPS URIs (RFC 3261 §19.1, grammar §25.1):
//   sip:user:password@host:port;uri-parameters?headers
import {
  allIn,
  HOST_CHARS,
  IPV6_CHARS,
  isDigit,
  PASSWORD_CHARS,
  URI_HEADER_CHARS,
  URI_PARAM_CHARS,
  USER_CHARS,
} from "./char-classes.js";
import type { Params } from "./text-scan.js";
import { escapeComponent, hasValidEscapes, unescapeComponent } from "./uri-escape.js";

export interface SipUri {
  readonly kind: "sip";
  readonly scheme: "sip" | "sips";
  /** User part with escapes resolved; null when the URI has no userinfo. */
  readonly user: string | null;
  readonly password: string | null;
  /** Host as written: FQDN, IPv4 address, or IPv6 reference including its brackets. */
  readonly host: string;
  readonly port: number | null;
  /** URI parameters (`transport`, `user`, `lr`, `maddr`, ...), names lower-cased, values as written. */
  readonly params: Params;
  /** URI headers (`?name=value&...`), escapes resolved. */
  readonly headers: ReadonlyMap<string, string>;
  /** The text this URI was parsed from. */
  readonly raw: string;
}

const NO_PARAMS: Params = new Map();
const NO_HEADERS: ReadonlyMap<string, string> = new Map();

function parseHost(s: string, from: number, to: number): string | undefined {
  if (from >= to) return undefined;
  if (s.charCodeAt(from) === 0x5b) {
    // IPv6reference = "[" IPv6address "]"
    if (s.charCodeAt(to - 1) !== 0x5d || to - from < 4) return undefined;
    const colon = s.indexOf(":", from);
    if (colon === -1 || colon > to || !allIn(IPV6_CHARS, s, from + 1, to - 1)) return undefined;
    return s.slice(from, to);
  }
  return s.slice(from, to);
}

/** Parses `text` as a sip: or sips: URI; `schemeEnd` is the index of the ":" after the scheme. */
export function parseSipUri(text: string, scheme: "sip" | "sips", schemeEnd: number): SipUri | undefined {
  const start = schemeEnd + 1;
  // "@" can only appear unescaped as the userinfo delimiter (§25.1: not in host, params or headers).
  const at = text.indexOf("@", start);
  let user: string | null = null;
  let password: string | null = null;
  let hostStart = start;
  if (at !== -1) {
    // user ends at the first ":" (password follows) or at "@"; "%" sends it through unescaping.
    let userEnd = start;
    let escaped = false;
    for (; userEnd < at; userEnd++) {
      const c = text.charCodeAt(userEnd);
      if (c === 0x3a) break;
      if (c > 255 || USER_CHARS[c] !== 1) return undefined;
      if (c === 0x25) escaped = true;
    }
    if (userEnd === start) return undefined;
    const rawUser = text.slice(start, userEnd);
    if (escaped) {
      if (!hasValidEscapes(rawUser)) return undefined;
      user = unescapeComponent(rawUser);
    } else user = rawUser;
    if (userEnd !== at) {
      if (!allIn(PASSWORD_CHARS, text, userEnd + 1, at)) return undefined;
      const rawPassword = text.slice(userEnd + 1, at);
      if (!hasValidEscapes(rawPassword)) return undefined;
      password = unescapeComponent(rawPassword);
    }
    hostStart = at + 1;
  }
  // hostport = host [ ":" port ], scanned in one pass; it ends at ";" (parameters) or "?" (headers).
  let hostEnd = hostStart;
  if (text.charCodeAt(hostStart) === 0x5b) {
    const close = text.indexOf("]", hostStart);
    if (close === -1) return undefined;
    hostEnd = close + 1;
  } else {
    while (hostEnd < text.length) {
      const c = text.charCodeAt(hostEnd);
      if (c > 255 || HOST_CHARS[c] !== 1) break;
      hostEnd++;
    }
  }
  const host = parseHost(text, hostStart, hostEnd);
  if (host === undefined) return undefined;
  let end = hostEnd;
  let port: number | null = null;
  if (text.charCodeAt(end) === 0x3a) {
    let n = 0;
    end++;
    const portStart = end;
    while (end < text.length && isDigit(text.charCodeAt(end))) {
      n = n * 10 + (text.charCodeAt(end) - 0x30);
      end++;
    }
    if (end === portStart || end - portStart > 5 || n > 65535) return undefined;
    port = n;
  }
  if (end < text.length && text.charCodeAt(end) !== 0x3b && text.charCodeAt(end) !== 0x3f) return undefined;
  let params: Map<string, string | null> | null = null;
  let pos = end;
  while (pos < text.length && text.charCodeAt(pos) === 0x3b) {
    // One pass per parameter: it ends at ";" or "?", "=" may appear once, "%" must be an escape.
    let next = pos + 1;
    let eq = -1;
    let escaped = false;
    for (; next < text.length; next++) {
      const c = text.charCodeAt(next);
      if (c === 0x3b || c === 0x3f) break;
      if (c === 0x3d) {
        if (eq !== -1) return undefined;
        eq = next;
      } else if (c > 255 || URI_PARAM_CHARS[c] !== 1) return undefined;
      else if (c === 0x25) escaped = true;
    }
    const nameEnd = eq !== -1 ? eq : next;
    if (nameEnd === pos + 1) return undefined;
    const name = text.slice(pos + 1, nameEnd);
    const value = nameEnd < next ? text.slice(nameEnd + 1, next) : null;
    if (escaped && (!hasValidEscapes(name) || (value !== null && !hasValidEscapes(value)))) return undefined;
    params ??= new Map();
    params.set(name.toLowerCase(), value);
    pos = next;
  }
  let headers: Map<string, string> | null = null;
  if (pos < text.length) {
    headers = new Map();
    // headers = "?" header *( "&" header )
    if (text.charCodeAt(pos) !== 0x3f) return undefined;
    for (const pair of text.slice(pos + 1).split("&")) {
      const eq = pair.indexOf("=");
      if (eq <= 0 || !allIn(URI_HEADER_CHARS, pair, 0, eq) || !allIn(URI_HEADER_CHARS, pair, eq + 1))
        return undefined;
      if (!hasValidEscapes(pair)) return undefined;
      headers.set(unescapeComponent(pair.slice(0, eq)), unescapeComponent(pair.slice(eq + 1)));
    }
  }
  return {
    kind: "sip",
    scheme,
    user,
    password,
    host,
    port,
    params: params ?? NO_PARAMS,
    headers: headers ?? NO_HEADERS,
    raw: text,
  };
}

const USER_OUT = USER_CHARS.slice();
USER_OUT[0x23] = 0; // "#" must be escaped on output (§19.1.2)

export function formatSipUri(uri: Omit<SipUri, "raw" | "kind">): string {
  let out = uri.scheme + ":";
  if (uri.user !== null) {
    out += escapeComponent(uri.user, USER_OUT);
    if (uri.password !== null) out += ":" + escapeComponent(uri.password, PASSWORD_CHARS);
    out += "@";
  }
  out += uri.host;
  if (uri.port !== null) out += ":" + uri.port;
  for (const [name, value] of uri.params) out += value === null ? ";" + name : ";" + name + "=" + value;
  let sep = "?";
  for (const [name, value] of uri.headers) {
    out += sep + escapeComponent(name, URI_HEADER_CHARS) + "=" + escapeComponent(value, URI_HEADER_CHARS);
    sep = "&";
  }
  return out;
}
