// The Redis store as the app wires it (a `redis` section in the file): one command connection
// and one pub/sub connection; routing from the versioned routing objects, registrations and
// gateway capacity shared by every instance; readiness and metrics that say when Redis is
// down. Opening it waits for Redis (a fresh instance has nothing to route on without it).
import { randomBytes } from "node:crypto";
import { adminWritesPlugin } from "../../api/admin/admin-writes.js";
import type { HttpPlugin } from "../../api/http-server.js";
import type { ReadinessResult } from "../../api/readiness.js";
import type { CdrLog } from "../../calls/cdr-log.js";
import type { CallEventBus } from "../../calls/events.js";
import type { DialgateConfig } from "../../config/schema.js";
import type { OutboundRequester } from "../../routing/decision.js";
import type { RoutingRuntime } from "../../routing/runtime.js";
import type { Clock, RandomSource } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import { EffectiveDialPlanCache, effectivePlanToJson } from "../effective-plan-cache.js";
import { hasRoutingObjects } from "../routing-document.js";
import { RedisCdrStream } from "./cdr-stream.js";
import {
  createRedisClient,
  describeRedisTarget,
  isRedisReady,
  type RedisClient,
  waitForRedisReady,
} from "./connection.js";
import { RedisGatewayCapacity } from "./gateway-capacity.js";
import { RedisKeys } from "./keys.js";
import { SharedStateMetrics } from "./metrics.js";
import { RedisRegistrationStore } from "./registration-store.js";
import { RedisRoutingStore } from "./routing-store.js";
import { SharedRouting } from "./shared-routing.js";

export interface SharedStateDeps {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly events: CallEventBus;
  readonly requester: OutboundRequester;
  /** For `redis.passwordEnv`. */
  readonly env?: NodeJS.ProcessEnv;
  /** How long start waits for Redis. */
  readonly connectTimeoutMs?: number;
  readonly pollIntervalMs?: number;
}

export interface SharedState {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  readonly routingStore: RedisRoutingStore;
  readonly routing: SharedRouting;
  /** The RoutingRuntime shape app.ts drives (start/stop), routing on the shared state. */
  readonly runtime: RoutingRuntime;
  readonly cache: EffectiveDialPlanCache;
  readonly capacity: RedisGatewayCapacity;
  readonly registrations: RedisRegistrationStore;
  readonly metrics: SharedStateMetrics;
  /** The CDR stream, spooling to `spool` (the local journal) while Redis is down. */
  openCdrStream(spool: CdrLog): Promise<RedisCdrStream>;
  /** `/readyz` check "redis": 503 naming Redis while it is unreachable. */
  readiness(): ReadinessResult;
  /** The admin API's write routes, applied to the routing objects in Redis. */
  adminWrites(adminToken: string | undefined): HttpPlugin;
  close(): Promise<void>;
}

/** The start-up refusal of a file that holds routing objects and a `redis` section. */
export function sharedStateConflict(config: DialgateConfig): string | null {
  if (config.redis === undefined || !hasRoutingObjects(config)) return null;
  return (
    "the file has a redis section and routing objects (gateways, translationRules, tenants, carriers); " +
    "with Redis, routing objects live in Redis only: load them with `dialgate config push --config <file> " +
    "--redis <url>` and keep only sip, http, redis and cdr in this instance's file"
  );
}

export async function openSharedState(config: DialgateConfig, deps: SharedStateDeps): Promise<SharedState> {
  const settings = config.redis;
  if (settings === undefined) throw new Error("openSharedState needs a redis section");
  const conflict = sharedStateConflict(config);
  if (conflict !== null) throw new Error(conflict);
  const logger = deps.logger.child({ component: "redis" });
  const target = describeRedisTarget(settings);
  const client = createRedisClient({ settings, ...(deps.env ? { env: deps.env } : {}) });
  const subscriber = createRedisClient({ settings, ...(deps.env ? { env: deps.env } : {}) });
  const keys = new RedisKeys(settings.keyPrefix);
  let down: { since: number; error: string } | null = null;
  const cache = new EffectiveDialPlanCache(settings.effectivePlanCacheSize, (userId, plan) => {
    // Write-behind of the merged plan, tagged with the version it was built on; never awaited.
    void routingStore
      .putEffectivePlan(routing.version, userId, effectivePlanToJson(plan))
      .catch(() => undefined);
  });
  const metrics = new SharedStateMetrics(cache);
  client.on("error", (err: Error) => {
    if (down === null) return;
    down = { ...down, error: err.message };
  });
  client.on("close", () => {
    if (down !== null) return;
    down = { since: deps.clock.now(), error: "connection closed" };
    metrics.redisUp.set(0);
    logger.error({ redis: target }, "Redis unreachable: routing on the cached version, writes refused");
  });
  let routingOpen = false;
  client.on("ready", () => {
    metrics.redisUp.set(1);
    if (down !== null) {
      logger.info({ redis: target, downMs: deps.clock.now() - down.since }, "Redis reachable again");
      down = null;
      // Not before the routing is open (Redis may come up during the start's own wait).
      if (routingOpen) void routing.refresh();
    }
  });
  subscriber.on("error", () => undefined);
  try {
    const timeout = deps.connectTimeoutMs ?? 10_000;
    await Promise.all([
      waitForRedisReady(client, timeout, target),
      waitForRedisReady(subscriber, timeout, target),
    ]);
  } catch (err) {
    client.disconnect();
    subscriber.disconnect();
    throw err;
  }
  metrics.redisUp.set(1);
  const routingStore = new RedisRoutingStore(client, keys);
  const registrations = new RedisRegistrationStore(client, keys);
  const capacity = new RedisGatewayCapacity({
    client,
    keys,
    logger: logger.child({ component: "gateway-capacity" }),
    now: () => deps.clock.now(),
    leaseSeconds: settings.capacityLeaseSeconds,
    onLoad: (load, alerting) => {
      metrics.gatewayCalls.set({ gateway: load.gateway }, load.callsInProgress);
      metrics.gatewayAlert.set({ gateway: load.gateway }, alerting ? 1 : 0);
    },
  });
  const detachCapacity = capacity.attach(deps.events);
  const nonceSecret = await routingStore.nonceSecret(randomBytes(32));
  const routing: SharedRouting = await SharedRouting.open({
    instance: config,
    store: routingStore,
    subscriber,
    cache,
    nonceSecret,
    logger,
    pollIntervalMs: deps.pollIntervalMs ?? settings.versionCheckSeconds * 1000,
    runtime: {
      clock: deps.clock,
      random: deps.random,
      logger: deps.logger,
      requester: deps.requester,
      events: deps.events,
      registrations,
      capacity,
    },
    onSwitch: (version) => metrics.routingVersion.set(version),
  });
  routingOpen = true;
  metrics.routingVersion.set(routing.version);

  const runtime: RoutingRuntime = {
    // A registration write during an outage throws `store_unavailable`: the router answers 503.
    router: routing.router,
    get health() {
      return routing.runtime.health;
    },
    capacity,
    registrations,
    start: () => routing.start(),
    stop: () => routing.stop(),
  };
  return {
    client,
    keys,
    routingStore,
    routing,
    runtime,
    cache,
    capacity,
    registrations,
    metrics,
    adminWrites: (adminToken) =>
      adminWritesPlugin({ adminToken, store: routingStore, afterWrite: () => routing.refresh() }),
    openCdrStream: (spool) =>
      RedisCdrStream.open({
        client,
        keys,
        spool,
        replayCursorFile: `${config.cdr.file}.redis-replayed`,
        retentionMs: settings.cdrRetentionHours * 3_600_000,
        now: () => deps.clock.now(),
        logger: logger.child({ component: "cdr-stream" }),
        onSpooled: (n) => metrics.cdrSpooled.set(n),
      }),
    readiness() {
      if (isRedisReady(client) && down === null) {
        return routing.version === 0
          ? { ok: false, detail: `Redis ${target} holds no routing objects yet: run dialgate config push` }
          : { ok: true, detail: `Redis ${target}, routing version ${routing.version}` };
      }
      const since = down === null ? "" : ` since ${new Date(down.since).toISOString()}`;
      return {
        ok: false,
        detail: `Redis ${target} unreachable${since} (${down?.error ?? client.status}); routing on cached version ${routing.version}, writes refused`,
      };
    },
    async close() {
      routing.stop();
      detachCapacity();
      subscriber.disconnect();
      client.disconnect();
    },
  };
}
