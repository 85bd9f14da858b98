// Opening the Redis connection described by the `redis` section: standalone, Sentinel or
// Cluster, password and TLS from the file or the environment. Nothing connects on import; the
// wiring calls createRedisClient once per process (plus one duplicate for pub/sub).
import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { RedisSettings } from "../../config/schema.js";

export type RedisClient = Redis | Cluster;

export interface RedisConnectOptions {
  readonly settings: RedisSettings;
  /** Where `passwordEnv` is looked up (injected: tests, and no process.env in the core). */
  readonly env?: NodeJS.ProcessEnv;
  /** ioredis `lazyConnect`: do not connect until the first command. */
  readonly lazyConnect?: boolean;
  /**
   * A pub/sub connection whose owner subscribes again itself after a reconnect (shared-routing.ts;
   * standalone and Sentinel).
   * ioredis's own re-subscription runs its SUBSCRIBE with nothing to catch its failure: a
   * connection lost again at that moment (Redis restarting) was an unhandled rejection.
   */
  readonly resubscribesItself?: boolean;
}

interface ParsedUrl {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly db?: number;
  readonly tls: boolean;
}

function parseRedisUrl(url: string): ParsedUrl {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: u.port === "" ? 6379 : Number(u.port),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
    tls: u.protocol === "rediss:",
  };
}

function tlsOptions(settings: RedisSettings, urlTls: boolean): ConnectionOptions | undefined {
  if (!urlTls && settings.tls === undefined) return undefined;
  return {
    rejectUnauthorized: settings.tls?.rejectUnauthorized ?? true,
    ...(settings.tls?.caFile ? { ca: readFileSync(settings.tls.caFile) } : {}),
  };
}

/** Where the client connects, for logs and errors (never with the password). */
export function describeRedisTarget(settings: RedisSettings): string {
  const u = parseRedisUrl(settings.url);
  if (settings.sentinel) return `sentinel master ${settings.sentinel.masterName}`;
  return `${settings.cluster ? "cluster " : ""}${u.host}:${u.port}`;
}

export function createRedisClient(options: RedisConnectOptions): RedisClient {
  const { settings } = options;
  const env = options.env ?? {};
  const url = parseRedisUrl(settings.url);
  const password = (settings.passwordEnv ? env[settings.passwordEnv] : undefined) ?? url.password;
  const username = settings.username ?? url.username;
  const tls = tlsOptions(settings, url.tls);
  const common: RedisOptions = {
    ...(password !== undefined ? { password } : {}),
    ...(username !== undefined ? { username } : {}),
    ...(tls ? { tls } : {}),
    // Commands issued while Redis is unreachable fail fast instead of queueing: the hot path
    // never waits on Redis, and writes report the outage at once (README, "Redis down").
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    // Reconnect forever, backing off to one attempt a second: recovery needs no restart.
    retryStrategy: (times) => Math.min(50 * times, 1_000),
    lazyConnect: options.lazyConnect ?? false,
    // Commands of concurrent calls issued in one tick (capacity checks, leases, CDR appends) go
    // out in one socket write: under load a write per command was ~10% of a worker's CPU.
    enableAutoPipelining: true,
    // Not on a Cluster: its subscriber connection moves between nodes and re-subscribes itself.
    ...(options.resubscribesItself && !settings.cluster ? { autoResubscribe: false } : {}),
  };
  if (settings.cluster) {
    const seeds = [settings.url, ...settings.clusterNodes].map((s) => {
      const p = parseRedisUrl(s);
      return { host: p.host, port: p.port };
    });
    return new Cluster(seeds, {
      redisOptions: common,
      enableOfflineQueue: false,
      clusterRetryStrategy: (times) => Math.min(50 * times, 1_000),
      lazyConnect: options.lazyConnect ?? false,
      slotsRefreshTimeout: 2_000,
      enableAutoPipelining: true,
    });
  }
  if (settings.sentinel) {
    return new Redis({
      ...common,
      sentinels: settings.sentinel.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: settings.sentinel.masterName,
      ...(url.db !== undefined ? { db: url.db } : {}),
    });
  }
  return new Redis({
    ...common,
    host: url.host,
    port: url.port,
    ...(url.db !== undefined ? { db: url.db } : {}),
  });
}

/**
 * How long a call (routing, registrar, CDR append) waits for one Redis reply. A Redis that
 * stops answering without closing its connections (hung, or a network path dropping replies)
 * raises no error by itself, and commands would wait for it forever: past this, the caller
 * takes its fallback (the in-process count, the bindings last seen, the local spool) or fails
 * with a clear error. Redis answers in well under a millisecond when healthy.
 */
export const CALL_PATH_TIMEOUT_MS = 1_000;

/**
 * How long a carrier-API request or a webhook dead letter waits for Redis: longer than the call
 * path's (a 10,000-item durations batch is one large MULTI), short enough that a hung Redis
 * answers the carrier with 503 instead of holding the request open.
 */
export const API_TIMEOUT_MS = 5_000;

export class RedisNotAnsweringError extends Error {
  readonly code = "redis_not_answering";
}

/** `promise`, or a RedisNotAnsweringError after `timeoutMs` (the command itself is not cancelled). */
export function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RedisNotAnsweringError(`Redis did not answer ${what} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  // A late rejection of the command itself is not an unhandled one.
  promise.catch(() => undefined);
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Whether the client currently has a usable connection. */
export function isRedisReady(client: RedisClient): boolean {
  return client.status === "ready";
}

/**
 * Resolves once the client is connected (commands fail fast while it is not, see
 * enableOfflineQueue above); rejects after `timeoutMs` with the last connection error.
 */
export function waitForRedisReady(client: RedisClient, timeoutMs: number, what: string): Promise<void> {
  if (isRedisReady(client)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError = "no answer";
    const onError = (err: Error) => {
      lastError = err.message;
    };
    const onReady = () => {
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis at ${what} is not reachable (${lastError})`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      client.off("ready", onReady);
      client.off("error", onError);
    };
    client.on("ready", onReady);
    client.on("error", onError);
  });
}
