// Headers of the B2BUA's outgoing INVITE, taken from the caller's request after the router's
// edits (applied with the native edge's own `applyEdits`, so both edges edit alike).
//
// What a proxy would forward, a B2BUA copies -- except what belongs to the caller's dialog or
// hops (drachtio-server builds its own Via, Call-ID, CSeq, Contact and Content-Length, and the
// tags are per leg). Max-Forwards is carried over, already decremented (§16.6 step 3), so a loop
// through two dialgates still ends. Content-Type is copied with the body it describes: the body
// goes out as drachtio-srf's `localSdp` whatever it is, and without the caller's type a
// multipart body (an emergency call's SDP and PIDF-LO location, RFC 6442) would reach the gateway
// labelled as something else or not at all.
import type { SipRequest } from "../index.js";

const NOT_COPIED = new Set([
  "via",
  "route",
  "record-route",
  "contact",
  "call-id",
  "cseq",
  "content-length",
  "from",
  "to",
  "max-forwards",
]);

export function uacHeaders(r: SipRequest): Record<string, string> {
  const grouped = new Map<string, { name: string; values: string[] }>();
  for (const f of r.headerFields) {
    if (NOT_COPIED.has(f.key)) continue;
    const g = grouped.get(f.key);
    if (g === undefined) grouped.set(f.key, { name: f.name, values: [f.value] });
    else g.values.push(f.value);
  }
  const headers: Record<string, string> = {};
  for (const { name, values } of grouped.values()) headers[name] = values.join(", ");
  const from = r.header("From");
  const to = r.header("To");
  if (from !== undefined) headers.From = withoutTag(from);
  if (to !== undefined) headers.To = withoutTag(to);
  if (r.maxForwards !== undefined) headers["Max-Forwards"] = String(r.maxForwards);
  return headers;
}

/** The name-addr without its tag parameter (the tag is per dialog: the UAC makes its own). */
export function withoutTag(value: string): string {
  const close = value.lastIndexOf(">");
  const head = close < 0 ? "" : value.slice(0, close + 1);
  const tail = close < 0 ? value : value.slice(close + 1);
  return head + tail.replace(/;\s*tag\s*=\s*[^;,\s]*/i, "");
}

/**
 * Response headers for drachtio-srf's `res.send`, which takes one string per header name. A
 * header sent twice (two digest challenges, MD5 and SHA-256, RFC 8760 §2.4) cannot be joined
 * with commas (RFC 3261 §7.3.1 excludes WWW-Authenticate and Proxy-Authenticate), so repeated
 * values are written as separate lines: drachtio-srf serialises `name: value` verbatim and
 * drachtio-server re-parses the text. Values with CR or LF are refused (header injection).
 */
export function responseHeaders(
  pairs: readonly (readonly [string, string])[],
): Record<string, string> | null {
  const byName = new Map<string, { name: string; values: string[] }>();
  for (const [name, value] of pairs) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) return null;
    const key = name.toLowerCase();
    const g = byName.get(key);
    if (g === undefined) byName.set(key, { name, values: [value] });
    else g.values.push(value);
  }
  const out: Record<string, string> = {};
  for (const { name, values } of byName.values()) out[name] = values.join(`\r\n${name}: `);
  return out;
}
