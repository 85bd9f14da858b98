// What the native edge hands the call recorder about quality (carrier-api.md "Quality data"),
// without interpreting it: the vendor RTP statistics headers of a BYE. Parsing lives in
// src/calls (rtp-stat.ts), shared by both edges.
import type { RtpStatHeader } from "../../calls/events.js";
import type { SipRequest } from "../index.js";

/** The BYE's `X-RTP-Stat` / `P-RTP-Stat` values, as an `ended` event field (only when present). */
export function rtpStatsOf(r: SipRequest): { rtpStats?: RtpStatHeader[] } {
  const stats: RtpStatHeader[] = [];
  for (const name of ["X-RTP-Stat", "P-RTP-Stat"] as const)
    for (const value of r.headers(name)) stats.push({ name, value });
  return stats.length > 0 ? { rtpStats: stats } : {};
}
