// Admission control on /metrics (issue #16): what share of new calls the native edge is refusing
// now, how many it refused, and the receive backlog it last read. An operator sees overload
// here before the callers' 503s show up in their own statistics.
import { Counter, Gauge, type Registry } from "prom-client";
import type { AdmissionControl } from "../sip/native/admission-control.js";

export function registerOverloadMetrics(registry: Registry, state: () => AdmissionControl["state"]): void {
  const registers = [registry];
  new Gauge({
    name: "dialgate_overload_reject_fraction",
    help: "Share of new out-of-dialog INVITEs admission control refuses now with 503 (0-0.95)",
    registers,
    collect() {
      this.set(state().rejectFraction);
    },
  });
  new Counter({
    name: "dialgate_overload_refused_invites_total",
    help: "New INVITEs refused by admission control with 503 + Retry-After",
    registers,
    collect() {
      // The controller's count only grows: mirror it.
      this.reset();
      this.inc(state().rejected);
    },
  });
  new Gauge({
    name: "dialgate_overload_udp_backlog_bytes",
    help: "Bytes waiting in the SIP UDP sockets' receive queues at the last read (-1: not read or unknown)",
    registers,
    collect() {
      this.set(state().backlogBytes ?? -1);
    },
  });
  new Gauge({
    name: "dialgate_overload_udp_backlog_limit_bytes",
    help: "Receive backlog past which admission control sheds: 512 KiB, or a quarter of a smaller socket receive buffer",
    registers,
    collect() {
      this.set(state().backlogLimitBytes);
    },
  });
}
