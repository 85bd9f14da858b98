// What the native edge hands the call recorder about quality (carrier-api.md "Quality data"),
// without interpreting it: the vendor RTP statistics headers of a BYE. Parsing lives in
// src/calls (rtp-stat.ts), shared by both edges.
import type { RtpStatHeader } from "../../calls/events.js";
import type { PublishAnswer, QualityReportPort } from "../../calls/quality-reports.js";
import type { SipRequest } from "../index.js";

/** The BYE's `X-RTP-Stat` / `P-RTP-Stat` values, as an `ended` event field (only when present). */
export function rtpStatsOf(r: SipRequest): { rtpStats?: RtpStatHeader[] } {
  const stats: RtpStatHeader[] = [];
  for (const name of ["X-RTP-Stat", "P-RTP-Stat"] as const)
    for (const value of r.headers(name)) stats.push({ name, value });
  return stats.length > 0 ? { rtpStats: stats } : {};
}

/**
 * A PUBLISH addressed to the proxy itself (no Route) goes to the quality report port: the
 * answer to send, or null when the request is not one (or no port is wired: then the edge
 * refuses PUBLISH to itself as before).
 */
export function publishToProxy(
  r: SipRequest,
  source: { readonly address: string; readonly port: number },
  toProxy: boolean,
  port: QualityReportPort | undefined,
): PublishAnswer | null {
  if (port === undefined || r.method !== "PUBLISH" || !toProxy || r.routes.length > 0) return null;
  return port.publish({
    event: r.header("Event") ?? null,
    contentType: r.header("Content-Type") ?? null,
    body: r.body.toString("utf8"),
    source: { address: source.address, port: source.port },
  });
}
