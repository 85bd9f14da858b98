// Via (RFC 3261 §20.42, §25.1):
//   sent-protocol LWS sent-by *( SEMI via-params ), sent-protocol = "SIP" "/" "2.0" "/" transport
// LWS is allowed around the slashes and ";" and "=" (RFC 4475 §3.1.1.1).
import { allIn, HOST_CHARS, IPV6_CHARS, isDigit, isWs } from "./char-classes.js";
import { type Params, parseParams, scanToken, skipWs } from "./text-scan.js";

export interface ViaHop {
  /** Protocol name and version, upper-cased: `SIP/2.0`. */
  readonly protocol: string;
  /** Transport, upper-cased: `UDP`, `TCP`, `TLS`, `SCTP`, `WS`, `WSS`, or any token. */
  readonly transport: string;
  /** sent-by host as written (IPv6 with brackets). */
  readonly host: string;
  readonly port: number | null;
  readonly params: Params;
  readonly branch: string | null;
  readonly received: string | null;
  /** True when an `rport` parameter is present (RFC 3581), with or without a value. */
  readonly hasRport: boolean;
  /** The `rport` value when it has one. */
  readonly rport: number | null;
  readonly maddr: string | null;
  /** The via-parm text as it was written. */
  readonly raw: string;
}

function expectSlash(s: string, pos: number): number {
  const p = skipWs(s, pos);
  return s.charCodeAt(p) === 0x2f ? skipWs(s, p + 1) : -1;
}

function parsePort(s: string): number | null | undefined {
  if (s.length === 0 || s.length > 5) return undefined;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return undefined;
    n = n * 10 + (c - 0x30);
  }
  return n <= 65535 ? n : undefined;
}

/** The upper-cased constant for the common transports, matched case-insensitively without slicing. */
function knownTransport(s: string, from: number, to: number): string | undefined {
  if (to - from !== 3) return undefined;
  const a = s.charCodeAt(from) | 0x20;
  const b = s.charCodeAt(from + 1) | 0x20;
  const c = s.charCodeAt(from + 2) | 0x20;
  if (a === 0x75 && b === 0x64 && c === 0x70) return "UDP";
  if (a === 0x74 && b === 0x63 && c === 0x70) return "TCP";
  if (a === 0x74 && b === 0x6c && c === 0x73) return "TLS";
  return undefined;
}

/** Parses one via-parm (one element of a Via list). */
export function parseViaHop(text: string): ViaHop | undefined {
  const s = text;
  let pos = skipWs(s, 0);
  let protocol: string;
  let transport: string;
  let transportEnd: number;
  if (s.startsWith("SIP/2.0/", pos)) {
    // The spelling nearly every element sends: no slices or case conversion for the protocol.
    protocol = "SIP/2.0";
    pos = skipWs(s, pos + 8);
    transportEnd = scanToken(s, pos);
    if (transportEnd === pos) return undefined;
    transport = knownTransport(s, pos, transportEnd) ?? s.slice(pos, transportEnd).toUpperCase();
  } else {
    const nameEnd = scanToken(s, pos);
    if (nameEnd === pos) return undefined;
    const name = s.slice(pos, nameEnd);
    pos = expectSlash(s, nameEnd);
    if (pos === -1) return undefined;
    const versionEnd = scanToken(s, pos);
    if (versionEnd === pos) return undefined;
    const version = s.slice(pos, versionEnd);
    pos = expectSlash(s, versionEnd);
    if (pos === -1) return undefined;
    transportEnd = scanToken(s, pos);
    if (transportEnd === pos) return undefined;
    transport = s.slice(pos, transportEnd).toUpperCase();
    protocol = (name + "/" + version).toUpperCase();
  }
  // LWS before sent-by is mandatory.
  if (!isWs(s.charCodeAt(transportEnd))) return undefined;
  pos = skipWs(s, transportEnd);
  let hostEnd: number;
  if (s.charCodeAt(pos) === 0x5b) {
    const close = s.indexOf("]", pos);
    if (close === -1 || !allIn(IPV6_CHARS, s, pos + 1, close)) return undefined;
    hostEnd = close + 1;
  } else {
    hostEnd = pos;
    while (hostEnd < s.length) {
      const c = s.charCodeAt(hostEnd);
      if (c > 255 || HOST_CHARS[c] !== 1) break;
      hostEnd++;
    }
    if (hostEnd === pos) return undefined;
  }
  // The scan above admitted only host characters (or a bracketed IPv6 reference).
  const host = s.slice(pos, hostEnd);
  pos = skipWs(s, hostEnd);
  let port: number | null = null;
  if (s.charCodeAt(pos) === 0x3a) {
    const portStart = skipWs(s, pos + 1);
    let portEnd = portStart;
    let n = 0;
    while (portEnd < s.length && isDigit(s.charCodeAt(portEnd))) {
      n = n * 10 + (s.charCodeAt(portEnd) - 0x30);
      portEnd++;
    }
    if (portEnd === portStart || portEnd - portStart > 5 || n > 65535) return undefined;
    port = n;
    pos = portEnd;
  }
  const params = new Map<string, string | null>();
  const end = parseParams(s, pos, params);
  if (end === -1 || skipWs(s, end) !== s.length) return undefined;
  const rportValue = params.get("rport");
  let rport: number | null = null;
  if (rportValue !== undefined && rportValue !== null) {
    const p = parsePort(rportValue);
    if (p === undefined) return undefined;
    rport = p;
  }
  return {
    protocol,
    transport,
    host,
    port,
    params,
    branch: params.get("branch") ?? null,
    received: params.get("received") ?? null,
    hasRport: rportValue !== undefined,
    rport,
    maddr: params.get("maddr") ?? null,
    raw: text,
  };
}
