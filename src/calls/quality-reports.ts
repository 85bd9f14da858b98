// The quality report port between a SIP edge and the call recorder: the edge hands over a
// PUBLISH addressed to the proxy as it arrived (event, content type, body) and sends the answer
// it gets back; it never interprets vq-rtcpxr itself. RFC 6035 / RFC 3903 answers:
//   * a source that is not a gateway, a tenant's trusted client network or `sip.flood.allow` →
//     403 (a report changes a carrier-visible record: strangers must not write into CDRs);
//   * Event other than vq-rtcpxr → 489 Bad Event (RFC 3903 §6 step 2, with Allow-Events);
//   * a body that is not application/vq-rtcpxr → 415 Unsupported Media Type (with Accept);
//   * a body that is not a report → 400, with a Warning (RFC 3261 §20.43) that says why;
//   * otherwise 200 with a SIP-ETag (RFC 3903 §6 step 8), and the report joins the CDR of its
//     CallID (the recorder decides whether in the CDR or as an amendment).
// Nothing here throws: a hostile body gets 400, a bug 500, and the call is never touched.

import type { Logger } from "../util/logger.js";
import { randomHex } from "../util/random-hex.js";
import type { CallRecorder, QualityDirection } from "./call-recorder.js";
import { identityUri, parseVqRtcpxr, type VqReport } from "./vq-rtcpxr.js";

export interface PublishedReport {
  /** The Event header (null when absent). */
  readonly event: string | null;
  /** The Content-Type header (null when absent). */
  readonly contentType: string | null;
  readonly body: string;
  readonly source: { readonly address: string; readonly port: number };
}

export interface PublishAnswer {
  readonly status: number;
  readonly reason: string;
  readonly headers?: readonly (readonly [name: string, value: string])[];
}

export interface QualityReportPort {
  publish(report: PublishedReport): PublishAnswer;
}

export const VQ_EVENT = "vq-rtcpxr";
export const VQ_CONTENT_TYPE = "application/vq-rtcpxr";

/** The report's direction: the session's originator (OrigID) is the caller. */
export function reportDirection(report: VqReport): QualityDirection {
  if (report.origId === null) return "caller";
  return identityUri(report.origId) === identityUri(report.localId) ? "caller" : "callee";
}

export class VqRtcpxrCollector implements QualityReportPort {
  private readonly log: Logger;
  private counts = { accepted: 0, forbidden: 0, badEvent: 0, badType: 0, malformed: 0 };

  constructor(
    private readonly recorder: Pick<CallRecorder, "addQuality">,
    logger: Logger,
    /** Who may report (default: anyone — tests of the parser and answers). */
    private readonly isAllowedSource: (address: string) => boolean = () => true,
  ) {
    this.log = logger.child({ component: "quality-reports" });
  }

  get stats() {
    return { ...this.counts };
  }

  publish(report: PublishedReport): PublishAnswer {
    try {
      return this.answer(report);
    } catch (err) {
      this.log.error({ err: (err as Error).stack }, "quality report handling failed");
      return { status: 500, reason: "Server Internal Error" };
    }
  }

  private answer(report: PublishedReport): PublishAnswer {
    if (!this.isAllowedSource(report.source.address)) {
      this.counts.forbidden++;
      this.log.info({ from: report.source.address }, "quality report from an untrusted source refused");
      return { status: 403, reason: "Forbidden" };
    }
    const event = (report.event ?? "").split(";")[0]!.trim().toLowerCase();
    if (event !== VQ_EVENT) {
      this.counts.badEvent++;
      return { status: 489, reason: "Bad Event", headers: [["Allow-Events", VQ_EVENT]] };
    }
    const type = (report.contentType ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== VQ_CONTENT_TYPE) {
      this.counts.badType++;
      return { status: 415, reason: "Unsupported Media Type", headers: [["Accept", VQ_CONTENT_TYPE]] };
    }
    const parsed = parseVqRtcpxr(report.body);
    if (!parsed.ok) {
      this.counts.malformed++;
      this.log.info({ from: report.source.address, why: parsed.error }, "malformed vq-rtcpxr report");
      return {
        status: 400,
        reason: "Bad Request",
        headers: [["Warning", `399 dialgate "vq-rtcpxr: ${parsed.error.replace(/["\\]/g, "'")}"`]],
      };
    }
    this.counts.accepted++;
    const r = parsed.report;
    this.recorder.addQuality(r.callId, reportDirection(r), r.local);
    // RFC 3903: state is not kept for vq-rtcpxr (each report stands alone), so the entity tag
    // is fresh each time and the report expires at once.
    return {
      status: 200,
      reason: "OK",
      headers: [
        ["SIP-ETag", randomHex(8)],
        ["Expires", "0"],
      ],
    };
  }
}
