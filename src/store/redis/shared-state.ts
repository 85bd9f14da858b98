// The Redis store as the app wires it (a `redis` section in the file): one command connection
// and one pub/sub connection; routing from the versioned routing objects, registrations and
// gateway capacity shared by every instance; readiness and metrics that say when Redis is
// down. Opening it waits for Redis (a fresh instance has nothing to route on without it).
import { randomBytes } from "node:crypto";
import { adminWritesPlugin } from "../../api/admin/admin-writes.js";
import type { HttpPlugin } from "../../api/http-server.js";
import type { ReadinessResult } from "../../api/readiness.js";
import type { CdrLog } from "../../calls/cdr-log.js";
import type { DurationStore } from "../../calls/duration-store.js";
import type { CallEventBus } from "../../calls/events.js";
import type { DialgateConfig } from "../../config/schema.js";
import { gatewaysWithoutListener } from "../../config/security-checks.js";
import type {
  DeadLetterStore,
  DeliveryLease,
  DeliveryPositionStore,
} from "../../delivery/webhook/delivery-state.js";
import type { OutboundRequester } from "../../routing/decision.js";
import type { GatewayAddressBook } from "../../routing/gateways.js";
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
  withDeadline,
} from "./connection.js";
import { RedisDeadLetterStore } from "./dead-letter-store.js";
import { RedisDrachtioCallStore } from "./drachtio-call-store.js";
import { RedisDurationStore } from "./duration-store.js";
import { RedisGatewayCapacity } from "./gateway-capacity.js";
import { RedisKeys } from "./keys.js";
import { SharedStateMetrics } from "./metrics.js";
import { RedisRegistrationStore } from "./registration-store.js";
import { RedisRoutingStore } from "./routing-store.js";
import { SharedRouting } from "./shared-routing.js";
import { RedisDeliveryLease, RedisDeliveryPositionStore } from "./webhook-coordination.js";

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
  /** How often the command connection is PINGed (a silent Redis closes nothing). */
  readonly probeIntervalMs?: number;
  /**
   * Where each version's gateways may send from: their `address`, or what their FQDN resolves to
   * (app.ts passes a book that follows the DNS answers for the version in use).
   */
  readonly gatewayAddresses?: GatewayAddressBook;
}

/** PINGs in a row without an answer before Redis counts as down (one may queue behind a large reply). */
const MISSED_PINGS_LIMIT = 2;

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
  /**
   * drachtio-server's CDR events by Call-ID, shared by every instance (the drachtio edge's
   * `callStore`): drachtio-server sends each event to one connected app, round-robin.
   */
  readonly drachtioCallStore: RedisDrachtioCallStore;
  readonly metrics: SharedStateMetrics;
  /**
   * The carrier API's paging-cursor key, the same on every instance (the file-based
   * `cursor.key` beside cdr.file is per instance, so a cursor would only work where issued).
   */
  readonly cursorKey: Buffer;
  /** Webhook delivery across instances: shared positions and one deliverer per carrier. */
  readonly webhookCoordination: { readonly positions: DeliveryPositionStore; readonly lease: DeliveryLease };
  /**
   * What carriers submit and what webhook delivery gave up on, shared so that the carrier API of
   * every instance reconciles and lists the same (instead of files beside each cdr.file).
   */
  readonly carrierStores: { readonly durations: DurationStore; readonly deadLetters: DeadLetterStore };
  /** Told each time the instance switches to another routing version (with its merged config). */
  onRoutingSwitch(listener: (config: DialgateConfig) => void): void;
  /** The CDR stream, spooling to `spool` (the local journal) while Redis is down. */
  openCdrStream(spool: CdrLog): Promise<RedisCdrStream>;
  /** `/readyz` check "redis": 503 naming Redis while it is unreachable. */
  readiness(): ReadinessResult;
  /** The admin API's write routes, applied to the routing objects in Redis. */
  adminWrites(adminToken: string | undefined): HttpPlugin;
  close(): Promise<void>;
}

/**
 * A pushed version may name a gateway this instance has no listener for (the push validated the
 * routing file's own `sip`, not this instance's): applied anyway -- the other gateways route --
 * but every call to that gateway would fail with 503 and nothing else would say why.
 */
function reportUnreachableGateways(
  version: number,
  config: DialgateConfig,
  metrics: SharedStateMetrics,
  logger: Logger,
): void {
  const unreachable = gatewaysWithoutListener(config);
  metrics.gatewaysWithoutListener.set(unreachable.length);
  if (unreachable.length === 0) return;
  logger.error(
    {
      version,
      gateways: unreachable.map((g) => `${g.fqdn} (${g.transport})`),
      listen: config.sip.listen.map((l) => l.transport),
    },
    "routing version has gateways whose transport this instance has no listener for: calls to them fail until sip.listen offers it",
  );
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
  const subscriber = createRedisClient({
    settings,
    resubscribesItself: true,
    ...(deps.env ? { env: deps.env } : {}),
  });
  const keys = new RedisKeys(settings.keyPrefix);
  let down: { since: number; error: string; silent: boolean } | null = null;
  const cache = new EffectiveDialPlanCache(settings.effectivePlanCacheSize, (userId, plan) => {
    // Write-behind of the merged plan, tagged with the version it was built on; never awaited.
    void routingStore
      .putEffectivePlan(routing.version, userId, effectivePlanToJson(plan))
      .catch(() => undefined);
  });
  const metrics = new SharedStateMetrics(cache);
  let routingOpen = false;
  const markDown = (error: string, silent: boolean) => {
    if (down !== null) return;
    down = { since: deps.clock.now(), error, silent };
    metrics.redisUp.set(0);
    logger.error(
      { redis: target, err: error },
      silent
        ? "Redis not answering: routing on the cached version, writes refused"
        : "Redis unreachable: routing on the cached version, writes refused",
    );
  };
  const markUp = () => {
    metrics.redisUp.set(1);
    if (down !== null) {
      logger.info({ redis: target, downMs: deps.clock.now() - down.since }, "Redis reachable again");
      down = null;
      // Not before the routing is open (Redis may come up during the start's own wait).
      if (routingOpen) void routing.refresh();
    }
  };
  client.on("error", (err: Error) => {
    if (down === null) return;
    down = { ...down, error: err.message };
  });
  client.on("close", () => {
    // A silent Redis that finally drops the connection is still the same outage.
    if (down?.silent) down = { ...down, silent: false, error: "connection closed" };
    markDown("connection closed", false);
  });
  client.on("ready", markUp);
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
  // Writes are refused at once while Redis is known to be down, rather than left waiting.
  const routingStore = new RedisRoutingStore(client, keys, () =>
    down === null ? null : `Redis ${target} ${down.silent ? "not answering" : "unreachable"} (${down.error})`,
  );
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
  const cursorKey = await routingStore.cursorSecret(randomBytes(32));
  const switchListeners = new Set<(config: DialgateConfig) => void>();
  const routing: SharedRouting = await SharedRouting.open({
    instance: config,
    store: routingStore,
    subscriber,
    cache,
    nonceSecret,
    logger,
    ...(deps.gatewayAddresses ? { gatewayAddresses: deps.gatewayAddresses } : {}),
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
    onSwitch: (version, config) => {
      metrics.routingVersion.set(version);
      reportUnreachableGateways(version, config, metrics, logger);
      for (const listener of switchListeners) listener(config);
    },
  });
  routingOpen = true;
  metrics.routingVersion.set(routing.version);

  // A Redis that stops answering (hung, or replies dropped on the way) closes nothing: only a
  // PING that gets no answer tells. The calls themselves never wait long for it (each command
  // on the call path has a deadline, connection.ts CALL_PATH_TIMEOUT_MS).
  const probeIntervalMs = deps.probeIntervalMs ?? 1_000;
  let missedPings = 0;
  let probing = false;
  const probe = setInterval(() => {
    if (probing || !isRedisReady(client)) return;
    probing = true;
    withDeadline(client.ping(), probeIntervalMs, "PING")
      .then(
        () => {
          missedPings = 0;
          if (isRedisReady(client)) markUp();
        },
        (err: Error) => {
          missedPings++;
          if (missedPings >= MISSED_PINGS_LIMIT && isRedisReady(client))
            markDown(`no answer to ${missedPings} PINGs in a row (${err.message})`, true);
        },
      )
      .finally(() => {
        probing = false;
      });
  }, probeIntervalMs);
  probe.unref();

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
    drachtioCallStore: new RedisDrachtioCallStore(client, keys),
    metrics,
    cursorKey,
    webhookCoordination: {
      positions: new RedisDeliveryPositionStore(client, keys),
      lease: new RedisDeliveryLease(client, keys),
    },
    carrierStores: {
      durations: new RedisDurationStore(client, keys),
      deadLetters: new RedisDeadLetterStore(client, keys),
    },
    onRoutingSwitch: (listener) => {
      switchListeners.add(listener);
    },
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
      const state = down?.silent ? "not answering" : "unreachable";
      return {
        ok: false,
        detail: `Redis ${target} ${state}${since} (${down?.error ?? client.status}); routing on cached version ${routing.version}, writes refused`,
      };
    },
    async close() {
      clearInterval(probe);
      routing.stop();
      detachCapacity();
      subscriber.disconnect();
      client.disconnect();
    },
  };
}
