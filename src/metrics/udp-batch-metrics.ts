// Batched UDP sends on /metrics (README, "Batched UDP sends"): whether the native edge is
// batching now (it does under load) and how many datagrams left that way, so an operator can
// tell the send path in use and correlate it with the peers' receive statistics.
import type { Registry } from "prom-client";
import type { UdpTransport } from "../sip/native/udp-transport.js";
import { scrapedCounter, scrapedGauge } from "./scraped.js";

export function registerUdpBatchMetrics(registry: Registry, state: () => UdpTransport["batchState"]): void {
  scrapedGauge(
    registry,
    "dialgate_sip_udp_batching",
    "1 while UDP sends leave in batches (one sendmmsg per socket and event-loop turn, under load), 0 otherwise; -1 where the native batch sender is not built or is off",
    () => {
      const s = state();
      return s.mode === "off" ? -1 : s.active ? 1 : 0;
    },
  );
  scrapedCounter(
    registry,
    "dialgate_sip_udp_batched_datagrams_total",
    "UDP datagrams sent in batches through sendmmsg",
    () => state().datagrams,
  );
}
