// Authorization, Proxy-Authorization (credentials, RFC 3261 §20.7, §20.28) and
// WWW-Authenticate, Proxy-Authenticate (challenges, §20.44, §20.27):
//   auth-scheme LWS auth-param *( COMMA auth-param )
// These values contain commas of their own, so each header field line is one value.
import { type Params, scanQuoted, scanToken, skipWs, unquote } from "./text-scan.js";

export interface AuthHeader {
  /** Scheme as written (`Digest`); compare case-insensitively. */
  readonly scheme: string;
  /** auth-params with lower-cased names and unquoted values (`realm`, `nonce`, `response`, ...). */
  readonly params: Params;
}

export function parseAuthHeader(s: string): AuthHeader | undefined {
  let pos = skipWs(s, 0);
  const schemeEnd = scanToken(s, pos);
  if (schemeEnd === pos) return undefined;
  const scheme = s.slice(pos, schemeEnd);
  const params = new Map<string, string | null>();
  pos = skipWs(s, schemeEnd);
  while (pos < s.length) {
    const nameEnd = scanToken(s, pos);
    if (nameEnd === pos) return undefined;
    const name = s.slice(pos, nameEnd).toLowerCase();
    pos = skipWs(s, nameEnd);
    if (s.charCodeAt(pos) !== 0x3d) return undefined;
    pos = skipWs(s, pos + 1);
    let valueEnd: number;
    let value: string;
    if (s.charCodeAt(pos) === 0x22) {
      valueEnd = scanQuoted(s, pos);
      if (valueEnd === -1) return undefined;
      value = unquote(s.slice(pos, valueEnd));
    } else {
      valueEnd = scanToken(s, pos);
      // token68-style values (base64 with "/" and "=") are tolerated.
      while (valueEnd < s.length && (s[valueEnd] === "/" || s[valueEnd] === "="))
        valueEnd = scanToken(s, valueEnd + 1);
      if (valueEnd === pos) return undefined;
      value = s.slice(pos, valueEnd);
    }
    params.set(name, value);
    pos = skipWs(s, valueEnd);
    if (pos < s.length) {
      if (s.charCodeAt(pos) !== 0x2c) return undefined;
      pos = skipWs(s, pos + 1);
    }
  }
  return { scheme, params };
}
