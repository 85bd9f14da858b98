// Admission control on /metrics (issue #16): what share of new calls the native edge is refusing
// now, how many it refused, and the receive backlog it last read. An operator sees overload
// here before the callers' 503s show up in their own statistics.
import type { Registry } from "prom-client";
import type { AdmissionControl } from "../sip/native/admission-control.js";
import { scrapedCounter, scrapedGauge } from "./scraped.js";

export function registerOverloadMetrics(registry: Registry, state: () => AdmissionControl["state"]): void {
  scrapedGauge(
    registry,
    "dialgate_overload_reject_fraction",
    "Share of new out-of-dialog INVITEs admission control refuses now with 503 (0-0.95)",
    () => state().rejectFraction,
  );
  scrapedCounter(
    registry,
    "dialgate_overload_refused_invites_total",
    "New INVITEs refused by admission control with 503 + Retry-After",
    () => state().rejected,
  );
  scrapedGauge(
    registry,
    "dialgate_overload_udp_backlog_bytes",
    "Bytes waiting in the SIP UDP sockets' receive queues at the last read (-1: not read or unknown)",
    () => state().backlogBytes ?? -1,
  );
  scrapedGauge(
    registry,
    "dialgate_overload_udp_backlog_limit_bytes",
    "Receive backlog past which admission control sheds at the last read: 512 KiB (or a quarter of a smaller socket receive buffer), lower when the process drains slower (30 ms of its reads)",
    () => state().backlogLimitBytes,
  );
}
