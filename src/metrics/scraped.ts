// Metrics whose values another component keeps (the edge's, the recorder's, admission control's
// counts): read when /metrics is scraped instead of being pushed on every event.
import { Counter, Gauge, type Registry } from "prom-client";

/** A counter that mirrors a count which only grows, read at scrape time. */
export function scrapedCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A gauge read at scrape time. */
export function scrapedGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}
