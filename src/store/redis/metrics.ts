// Prometheus metrics of the shared state: whether Redis is reachable, the routing version in
// force and its gateways this instance cannot reach, the effective dial plan cache, cluster-wide
// gateway load with the 90% alert, and the CDRs waiting in the local spool. One registry per
// instance (several run in one test process).
import { Gauge, Registry } from "prom-client";
import type { EffectiveDialPlanCache } from "../effective-plan-cache.js";

export class SharedStateMetrics {
  readonly registry = new Registry();
  readonly redisUp: Gauge;
  readonly routingVersion: Gauge;
  readonly gatewaysWithoutListener: Gauge;
  readonly gatewayCalls: Gauge<"gateway">;
  readonly gatewayAlert: Gauge<"gateway">;
  readonly cdrSpooled: Gauge;

  constructor(cache: EffectiveDialPlanCache) {
    const registers = [this.registry];
    this.redisUp = new Gauge({
      name: "dialgate_redis_up",
      // Across workers (src/cluster): down when any worker has lost Redis.
      aggregator: "min",
      help: "1 while the shared state store (Redis) is reachable, 0 during an outage",
      registers,
    });
    this.routingVersion = new Gauge({
      name: "dialgate_routing_version",
      // Across workers: the oldest version still in use.
      aggregator: "min",
      help: "Version of the routing objects (config push / admin writes) this instance routes on",
      registers,
    });
    this.gatewaysWithoutListener = new Gauge({
      name: "dialgate_routing_gateways_without_listener",
      // Every worker has the same listeners and version.
      aggregator: "max",
      help: "Gateways of the routing version in use whose transport has no listener here (calls to them fail)",
      registers,
    });
    const stat = (name: string, help: string, pick: (s: EffectiveDialPlanCache["stats"]) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(pick(cache.stats));
        },
      });
    stat(
      "dialgate_effective_plan_cache_entries",
      "Compiled effective dial plans held in process",
      (s) => s.size,
    );
    stat(
      "dialgate_effective_plan_cache_hits",
      "Effective dial plan lookups served from the cache",
      (s) => s.hits,
    );
    stat(
      "dialgate_effective_plan_cache_misses",
      "Effective dial plan lookups that compiled a plan",
      (s) => s.misses,
    );
    stat(
      "dialgate_effective_plan_cache_invalidations",
      "Cached effective dial plans dropped because a change touched them",
      (s) => s.invalidations,
    );
    this.gatewayCalls = new Gauge({
      name: "dialgate_gateway_calls_in_progress",
      // The cluster-wide count from Redis: every worker reads the same figure.
      aggregator: "max",
      help: "Calls in progress on a gateway across every instance (capacity leases)",
      labelNames: ["gateway"],
      registers,
    });
    this.gatewayAlert = new Gauge({
      name: "dialgate_gateway_capacity_alert",
      // Same figure in every worker.
      aggregator: "max",
      help: "1 when a gateway carries at least 90% of its maxConcurrentSessions (routing.md)",
      labelNames: ["gateway"],
      registers,
    });
    this.cdrSpooled = new Gauge({
      name: "dialgate_cdr_spooled",
      help: "CDRs committed to the local journal while Redis was down, not yet replayed to the stream",
      registers,
    });
  }
}
