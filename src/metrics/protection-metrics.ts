// Flood protection and connection limits on /metrics (issue #15). The edge keeps the counts
// (limits.ts `ProtectionStats`); these read them at scrape time. No label carries an address:
// hostile traffic must not grow the series count (bans are logged with the address instead).
import type { Registry } from "prom-client";
import type { ProtectionStats } from "../sip/native/limits.js";
import { scrapedCounter, scrapedGauge } from "./scraped.js";

export function registerProtectionMetrics(registry: Registry, stats: () => ProtectionStats): void {
  const counter = (name: string, help: string, read: (s: ProtectionStats) => number) =>
    scrapedCounter(registry, name, help, () => read(stats()));
  counter("dialgate_flood_bans_total", "Sources banned by the flood guard (rate or scanner)", (s) => s.bans);
  counter(
    "dialgate_flood_dropped_messages_total",
    "SIP messages dropped unread because their source was banned",
    (s) => s.droppedMessages,
  );
  counter(
    "dialgate_flood_scanner_requests_total",
    "Requests refused for a scanner User-Agent (friendly-scanner, sipvicious...)",
    (s) => s.scannerRequests,
  );
  counter(
    "dialgate_refused_connections_total",
    "TCP/TLS connections closed at accept: banned source or maxConnectionsPerSource reached",
    (s) => s.refusedConnections,
  );
  scrapedGauge(
    registry,
    "dialgate_flood_banned_sources",
    "Source addresses banned now",
    () => stats().bannedNow,
  );
}
