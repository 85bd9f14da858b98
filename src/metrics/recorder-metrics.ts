// The call recorder on /metrics: what it could not write yet, what it did not expect, and the
// quality reports it joined (src/calls/call-recorder.ts keeps the counts; read at scrape time).
import type { Registry } from "prom-client";
import type { CallRecorderStats } from "../calls/call-recorder.js";
import { scrapedCounter, scrapedGauge } from "./scraped.js";

export function registerRecorderMetrics(registry: Registry, stats: () => CallRecorderStats): void {
  const counter = (name: string, help: string, read: (s: CallRecorderStats) => number) =>
    scrapedCounter(registry, name, help, () => read(stats()));
  counter(
    "dialgate_recorder_append_failures_total",
    "CDR log appends the recorder had to retry (the records are kept, never dropped)",
    (s) => s.appendFailures,
  );
  counter(
    "dialgate_recorder_unexpected_events_total",
    "Call events that fit no call in progress (BYE for an unknown call, events after the end)",
    (s) => s.unexpectedEvents,
  );
  counter(
    "dialgate_recorder_calls_expired_total",
    "Calls closed by the proxy at cdr.maxCallDurationSeconds (a BYE that never came)",
    (s) => s.callsExpired,
  );
  counter(
    "dialgate_quality_reports_total",
    "Quality reports (vq-rtcpxr, X-RTP-Stat) joined to a call's CDR or amendment",
    (s) => s.qualityReports,
  );
  counter(
    "dialgate_quality_reports_unmatched_total",
    "Quality reports for no known call (or past the late-report window), dropped",
    (s) => s.qualityReportsUnmatched,
  );
  scrapedGauge(
    registry,
    "dialgate_recorder_pending_writes",
    "CDRs and amendments not yet durable (in flight or waiting for a retry)",
    () => stats().pendingWrites,
  );
  scrapedGauge(
    registry,
    "dialgate_recorder_calls_in_progress",
    "Calls the recorder follows (INVITE seen, no CDR written yet)",
    () => stats().callsInProgress,
  );
}
