// Routing from the objects in Redis: the instance loads the active version, builds the router on
// it (its own settings from the file plus the routing objects), and switches to each new version
// announced on the change channel -- or found by the periodic check, when an announcement was
// missed during an outage. Switching swaps the router in one synchronous step and then evicts
// exactly the users the change touches from the effective dial plan cache; calls already being
// routed finish on the version they started with. If Redis is unreachable the instance keeps
// routing on the version it has (stale is better than down).
import type { DialgateConfig } from "../../config/schema.js";
import { createDialPlanEngine } from "../../dialplan/index.js";
import type { CallRouter } from "../../routing/decision.js";
import type { GatewayAddressBook } from "../../routing/gateways.js";
import {
  createRoutingRuntime,
  type RoutingRuntime,
  type RoutingRuntimeOptions,
} from "../../routing/runtime.js";
import type { Logger } from "../../util/logger.js";
import type { EffectiveDialPlanCache } from "../effective-plan-cache.js";
import {
  affectedUsers,
  emptyRoutingDocument,
  mergeRoutingDocument,
  type RoutingDocument,
} from "../routing-document.js";
import type { RedisClient } from "./connection.js";
import { parseRoutingChange, type RedisRoutingStore } from "./routing-store.js";

export interface SharedRoutingOptions {
  /** This instance's settings (sip, http, redis, cdr) from its file. */
  readonly instance: DialgateConfig;
  readonly store: RedisRoutingStore;
  /** A connection dedicated to pub/sub (a subscribed connection cannot run other commands). */
  readonly subscriber: RedisClient;
  readonly cache: EffectiveDialPlanCache;
  readonly runtime: Omit<RoutingRuntimeOptions, "overrides">;
  readonly nonceSecret: Uint8Array;
  readonly logger: Logger;
  /** Where gateways may send from (default: their configured `address` only). */
  readonly gatewayAddresses?: GatewayAddressBook;
  /** How often the active version is checked besides the announcements. */
  readonly pollIntervalMs?: number;
  /** Told after each switch (metrics, gateway limits of the capacity counter). */
  readonly onSwitch?: (version: number, config: DialgateConfig, evicted: number) => void;
}

interface Loaded {
  readonly version: number;
  readonly document: RoutingDocument;
  readonly config: DialgateConfig;
  readonly runtime: RoutingRuntime;
}

export class SharedRouting {
  private current: Loaded;
  private running = false;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private refreshing: Promise<void> | null = null;
  private again = false;
  /** A version that failed to build: not retried on every poll (its problems were logged). */
  private refused: number | null = null;
  private readonly onMessage = (channel: string, message: string) => {
    if (channel !== this.options.store.keys.routingChannel) return;
    const change = parseRoutingChange(message);
    if (change !== null && change.version !== this.current.version) void this.refresh();
  };

  readonly router: CallRouter = {
    route: (request) => this.current.runtime.router.route(request),
  };

  private constructor(private readonly options: SharedRoutingOptions) {
    this.current = this.build(0, emptyRoutingDocument());
  }

  /** Loads the active version (or starts empty until the first push) and subscribes. */
  static async open(options: SharedRoutingOptions): Promise<SharedRouting> {
    const shared = new SharedRouting(options);
    await options.subscriber.subscribe(options.store.keys.routingChannel);
    options.subscriber.on("message", shared.onMessage);
    options.subscriber.on("ready", shared.onReconnect);
    await shared.refresh();
    if (shared.current.version === 0)
      options.logger.warn(
        "no routing objects in Redis yet: every call is refused until `dialgate config push` loads them",
      );
    return shared;
  }

  get version(): number {
    return this.current.version;
  }

  get config(): DialgateConfig {
    return this.current.config;
  }

  get runtime(): RoutingRuntime {
    return this.current.runtime;
  }

  start(): void {
    this.running = true;
    this.current.runtime.start();
    this.pollTimer = setInterval(() => void this.refresh(), this.options.pollIntervalMs ?? 5_000);
    this.pollTimer.unref();
  }

  /**
   * After a reconnect: subscribe again (the connection is created with `resubscribesItself`),
   * and look for a version pushed while the connection was down.
   */
  private readonly onReconnect = (): void => {
    this.options.subscriber.subscribe(this.options.store.keys.routingChannel).then(
      () => void this.refresh(),
      (err: Error) =>
        // Lost again at once: the next "ready" subscribes; the periodic check covers the gap.
        this.options.logger.warn(
          { err: err.message },
          "cannot subscribe to routing changes; retrying on reconnect",
        ),
    );
  };

  stop(): void {
    this.running = false;
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.options.subscriber.off("message", this.onMessage);
    this.options.subscriber.off("ready", this.onReconnect);
    this.current.runtime.stop();
  }

  /** Checks the active version and switches to it if newer; never throws (Redis may be down). */
  refresh(): Promise<void> {
    if (this.refreshing !== null) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        await this.refreshOnce().catch((err: unknown) =>
          this.options.logger.warn(
            { err: (err as Error).message, version: this.current.version },
            "cannot read routing objects from Redis; routing on the version loaded",
          ),
        );
      } while (this.again);
      this.refreshing = null;
    })();
    return this.refreshing;
  }

  private async refreshOnce(): Promise<void> {
    const active = await this.options.store.readActive();
    // Any other version than ours is news: normally a newer one, but after Redis lost its data
    // (no persistence, failover to an empty replica) a fresh push starts again at 1.
    if (active === null || active.version === this.current.version || active.version === this.refused) return;
    let next: Loaded;
    try {
      next = this.build(active.version, active.document);
    } catch (err) {
      this.refused = active.version;
      this.options.logger.error(
        { version: active.version, err: (err as Error).message },
        "routing version in Redis is invalid; keeping the current one",
      );
      return;
    }
    const previous = this.current;
    const users = affectedUsers(previous.document, next.document);
    // One synchronous step: new requests see the new version and no stale plan of a touched user.
    this.current = next;
    const evicted = this.options.cache.invalidate(users);
    if (this.running) next.runtime.start();
    previous.runtime.stop();
    this.options.logger.info(
      { version: next.version, previous: previous.version, usersTouched: users.size, evicted },
      "switched to routing version",
    );
    this.options.onSwitch?.(next.version, next.config, evicted);
  }

  private build(version: number, document: RoutingDocument): Loaded {
    const merged = mergeRoutingDocument(this.options.instance, document);
    if (!merged.ok)
      throw new Error(
        `${merged.problems.length} problem(s): ${merged.problems
          .slice(0, 5)
          .map((p) => `${p.path}: ${p.message}`)
          .join("; ")}`,
      );
    const engine = createDialPlanEngine(merged.config);
    const runtime = createRoutingRuntime(merged.config, {
      ...this.options.runtime,
      overrides: {
        dialPlan: this.options.cache.dialPlanFor(engine),
        nonceSecret: this.options.nonceSecret,
        ...(this.options.gatewayAddresses ? { gatewayAddresses: this.options.gatewayAddresses } : {}),
      },
    });
    return { version, document, config: merged.config, runtime };
  }
}
