// The request-side proxy steps that depend only on the request and on who we are: loop
// detection (§16.3 step 4), Route preprocessing (§16.4), annotating the top Via (§18.2.1,
// RFC 3581 §4) and the next hop of a request (§16.12).
import { isIP } from "node:net";
import type { SipRequest, ViaHop } from "../index.js";
import { type LocalIdentity, normalizeHost, stripBrackets } from "./edge-addressing.js";
import { loopHash, loopHashOfBranch } from "./loop-detection.js";
import type { Destination, MessageSource } from "./transport-types.js";

/** RFC 3581 §4 / RFC 3261 §18.2.1: record where the request really came from in its top Via. */
export function annotateVia(r: SipRequest, via: ViaHop, source: MessageSource): void {
  const needRport = via.hasRport && via.rport === null;
  const needReceived =
    via.received === null && (needRport || normalizeHost(via.host) !== normalizeHost(source.address));
  if (!needRport && !needReceived) return;
  let value = via.raw.trim();
  if (needRport) value = value.replace(/;\s*rport(?=\s*(;|$))/i, `;rport=${source.port}`);
  if (needReceived) value += `;received=${source.address}`;
  r.popVia();
  r.pushVia(value);
}

/** §16.3 step 4: one of our Vias carries the loop hash the request has now. */
export function isLooped(r: SipRequest, us: LocalIdentity): boolean {
  let hash: string | null = null;
  for (const hop of r.viaHops ?? []) {
    if (!us.isOurVia(hop)) continue;
    const theirs = loopHashOfBranch(hop.branch);
    if (theirs === null) continue;
    hash ??= loopHash(r);
    if (theirs === hash) return true;
  }
  return false;
}

/**
 * §16.4: if the Request-URI is a URI we put in a Record-Route (a strict router before us),
 * the last Route becomes the Request-URI; then our own Route values on top are removed.
 * Returns whether one of our Route values was removed (the request was routed through us).
 */
export function preprocessRoutes(r: SipRequest, us: LocalIdentity): boolean {
  let routedByUs = false;
  const uri = r.uri;
  const routes = r.routes;
  if (uri?.kind === "sip" && uri.user === null && us.isOurUri(uri) && routes.length > 0) {
    const values = r.headers("route");
    const last = routes[routes.length - 1]!;
    r.removeHeader("Route");
    for (const v of values.slice(0, -1)) r.addHeader("Route", v);
    r.setRequestUri(last.uriText);
    routedByUs = true;
  }
  for (let i = 0; i < 2; i++) {
    const top = r.routes[0];
    if (top === undefined || top.uri.kind !== "sip" || !us.isOurUri(top.uri)) break;
    r.removeFirstRoute();
    routedByUs = true;
  }
  return routedByUs;
}

/** §16.12 / RFC 3263 (no DNS here): the first Route if any, else the Request-URI. */
export function nextHop(r: SipRequest): Destination | null {
  const top = r.routes[0];
  const uri = top !== undefined ? top.uri : r.uri;
  if (uri === undefined || uri.kind !== "sip") return null;
  const transportParam = (uri.params.get("transport") ?? "").toLowerCase();
  // RFC 5630 §3.1.3: a sips: URI means TLS on every hop; `transport=tls` is the older spelling.
  const transport =
    uri.scheme === "sips" || transportParam === "tls" ? "tls" : transportParam === "tcp" ? "tcp" : "udp";
  const host = stripBrackets(uri.params.get("maddr") ?? uri.host);
  const port = uri.port ?? (transport === "tls" ? 5061 : 5060);
  // Over TLS the URI host is the name the peer certificate must carry (RFC 5922 §7.2).
  return transport === "tls" && isIP(host) === 0
    ? { host, port, transport, serverName: host }
    : { host, port, transport };
}

/**
 * The Request-URI or the top Route is a SIPS URI (RFC 3261 §16.6 step 4, RFC 5630): the
 * request must reach its destination over TLS on every hop, and the Record-Route we add must be
 * a SIPS URI.
 */
export function isSipsRequest(r: SipRequest): boolean {
  const uri = r.uri;
  const top = r.routes[0]?.uri;
  return (uri?.kind === "sip" && uri.scheme === "sips") || (top?.kind === "sip" && top.scheme === "sips");
}

/** The Request-URI names the proxy itself (OPTIONS/REGISTER to us, PUBLISH/SUBSCRIBE refusal). */
export function addressedToProxy(r: SipRequest, us: LocalIdentity): boolean {
  const uri = r.uri;
  return uri?.kind === "sip" && us.isOurUri(uri);
}
