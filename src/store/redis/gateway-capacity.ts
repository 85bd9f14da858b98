// Cluster-wide `maxConcurrentSessions` (routing.md "Gateway health and capacity"): every call
// attempt on a gateway holds a lease in Redis -- a sorted-set member scored with its expiry --
// for as long as it lasts. The instance renews its leases while the calls go on; an instance
// that dies (SIGKILL, power loss) stops renewing, and its leases lapse after `leaseSeconds`, so
// no crash can leak capacity. A gateway is full when its live leases, counted across every
// instance in one atomic script, reach its limit. All lease keys share the `{<prefix>:cap}`
// hash tag, so one script counts every gateway of a decision on a Cluster.
//
// Decision taken where the spec is silent: the count is checked when routing and the lease is
// taken when the attempt is sent, so instances deciding at the same instant can overshoot by
// the calls they route concurrently. A strict reservation would put a Redis round trip and a
// release path into every failover step; operators size `maxConcurrentSessions` with margin
// anyway (the trunk enforces its own hard limit).
//
// Lease changes are written in batches, one pipeline per `LEASE_FLUSH_MS` (one ZADD and one ZREM
// per gateway with every member of the window) instead of two commands per call: the Redis
// store's cost per call is what limits its call rate (bench/README.md, issue #14). An attempt
// that fails inside the window never reaches Redis at all. Other instances see a new lease up
// to that much later -- the same kind of overshoot as the decision-time check above, bounded by
// the calls routed in 10 ms -- while this instance's own count adds the changes not yet
// written, so a burst on one instance cannot overshoot.
//
// If Redis is unreachable the counter falls back to this instance's own calls (the in-process
// counter fed with the same events), so calls keep routing.
import { randomUUID } from "node:crypto";
import type { CallEvent, CallEventBus } from "../../calls/events.js";
import { CAPACITY_ALERT_RATIO, InProcessGatewayCapacity } from "../../calls/gateway-call-counter.js";
import type { GatewayCapacity } from "../../routing/capacity.js";
import type { PstnGateway } from "../../routing/gateways.js";
import type { Logger } from "../../util/logger.js";
import { CALL_PATH_TIMEOUT_MS, type RedisClient, withDeadline } from "./connection.js";
import type { RedisKeys } from "./keys.js";

// KEYS: lease sets. ARGV: now (ms). Drops lapsed leases, returns the live count of each set.
const COUNT_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
  out[i] = redis.call('ZCARD', key)
end
return out
`;

/** How long lease changes gather before they are written in one pipeline. */
export const LEASE_FLUSH_MS = 10;

export interface GatewayLoad {
  readonly gateway: string;
  readonly callsInProgress: number;
  readonly maxConcurrentSessions: number;
}

export interface RedisGatewayCapacityOptions {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  readonly logger: Logger;
  /** Wall clock (ms); lease expiry is absolute time shared by every instance. */
  readonly now: () => number;
  readonly leaseSeconds: number;
  /** Told each time cluster-wide counts are read (metrics: load and the 90% alert). */
  readonly onLoad?: (load: GatewayLoad, alerting: boolean) => void;
}

export class RedisGatewayCapacity implements GatewayCapacity {
  private readonly instance = randomUUID();
  private seq = 0;
  /** callId -> gateway FQDN -> lease members held by this instance. */
  private readonly held = new Map<string, Map<string, string[]>>();
  private readonly local: InProcessGatewayCapacity;
  private readonly alerting = new Set<string>();
  /** maxConcurrentSessions of the limited gateways routed to so far, for the periodic count. */
  private readonly limits = new Map<string, number>();
  private renewTimer: ReturnType<typeof setInterval> | null = null;
  /** Lease key -> members taken / given back since the last flush (not yet in Redis). */
  private readonly toAdd = new Map<string, Set<string>>();
  private readonly toRemove = new Map<string, Set<string>>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly options: RedisGatewayCapacityOptions) {
    // Limits are read from the gateways passed to atCapacity; the local fallback only counts.
    this.local = new InProcessGatewayCapacity([], options.logger);
  }

  attach(bus: CallEventBus): () => void {
    const off = bus.subscribe((e) => this.onEvent(e));
    const period = Math.max(200, (this.options.leaseSeconds * 1000) / 3);
    this.renewTimer = setInterval(() => {
      void this.renew();
      void this.refreshLoad();
    }, period);
    this.renewTimer.unref();
    return () => {
      off();
      if (this.renewTimer !== null) clearInterval(this.renewTimer);
      this.renewTimer = null;
      // What the calls of this instance changed last still reaches Redis.
      void this.flush();
    };
  }

  /** Leases this instance holds now (tests, metrics). */
  get leasesHeld(): number {
    let n = 0;
    for (const byGateway of this.held.values()) for (const m of byGateway.values()) n += m.length;
    return n;
  }

  async atCapacity(gateways: readonly PstnGateway[]): Promise<ReadonlySet<string>> {
    const limited = gateways.filter((g) => g.maxConcurrentSessions !== undefined);
    const out = new Set<string>();
    if (limited.length === 0) return out;
    let counts: number[];
    try {
      counts = await this.liveCounts(limited.map((g) => g.fqdn));
    } catch {
      // Redis down or not answering: this instance's own calls are all it can see.
      counts = limited.map((g) => this.local.callsInProgress(g.fqdn));
    }
    limited.forEach((g, i) => {
      const n = counts[i] ?? 0;
      const limit = g.maxConcurrentSessions as number;
      this.limits.set(g.fqdn, limit);
      if (n >= limit) out.add(g.fqdn);
      this.report({ gateway: g.fqdn, callsInProgress: n, maxConcurrentSessions: limit });
    });
    return out;
  }

  onEvent(event: CallEvent): void {
    this.local.onEvent(event);
    switch (event.type) {
      case "attempt-sent":
        if (event.target.gateway !== null) this.acquire(event.callId, event.target.gateway);
        break;
      case "attempt-failed":
        if (event.target.gateway !== null) this.release(event.callId, event.target.gateway);
        break;
      case "ended":
      case "rejected":
      case "cancelled":
      case "transaction-timeout":
        this.releaseCall(event.callId);
        break;
      default:
        break;
    }
  }

  private acquire(callId: string, fqdn: string): void {
    const member = `${this.instance}|${callId}|${++this.seq}`;
    let byGateway = this.held.get(callId);
    if (byGateway === undefined) {
      byGateway = new Map();
      this.held.set(callId, byGateway);
    }
    const list = byGateway.get(fqdn) ?? [];
    list.push(member);
    byGateway.set(fqdn, list);
    addTo(this.toAdd, this.options.keys.gatewayLeases(fqdn), member);
    this.scheduleFlush();
  }

  private release(callId: string, fqdn: string): void {
    const byGateway = this.held.get(callId);
    const list = byGateway?.get(fqdn);
    const member = list?.shift();
    if (byGateway === undefined || list === undefined || member === undefined) return;
    if (list.length === 0) byGateway.delete(fqdn);
    if (byGateway.size === 0) this.held.delete(callId);
    this.remove(fqdn, [member]);
  }

  private releaseCall(callId: string): void {
    const byGateway = this.held.get(callId);
    if (byGateway === undefined) return;
    this.held.delete(callId);
    for (const [fqdn, members] of byGateway) this.remove(fqdn, members);
  }

  private remove(fqdn: string, members: readonly string[]): void {
    const key = this.options.keys.gatewayLeases(fqdn);
    const adding = this.toAdd.get(key);
    for (const m of members) {
      // Taken and given back inside one window: Redis never needs to hear of it.
      if (adding?.delete(m)) continue;
      addTo(this.toRemove, key, m);
    }
    if (adding?.size === 0) this.toAdd.delete(key);
    this.scheduleFlush();
  }

  /** Members added minus members removed on `key` that Redis has not been told of yet. */
  private unwritten(key: string): number {
    return (this.toAdd.get(key)?.size ?? 0) - (this.toRemove.get(key)?.size ?? 0);
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== null || (this.toAdd.size === 0 && this.toRemove.size === 0)) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flush();
    }, LEASE_FLUSH_MS);
    this.flushTimer.unref();
  }

  /** Writes the gathered lease changes in one pipeline (tests call it to skip the wait). */
  async flush(): Promise<void> {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.toAdd.size === 0 && this.toRemove.size === 0) return;
    const expiry = this.options.now() + this.options.leaseSeconds * 1000;
    const pipeline = this.options.client.pipeline();
    for (const [key, members] of this.toAdd) pipeline.zadd(key, ...[...members].flatMap((m) => [expiry, m]));
    for (const [key, members] of this.toRemove) pipeline.zrem(key, ...members);
    this.toAdd.clear();
    this.toRemove.clear();
    // Unreachable Redis: a lost add comes back with the next renewal (ZADD, not XX) and a lost
    // removal lapses by itself.
    const results = await pipeline.exec().catch((err: Error) => [[err, null]] as [Error | null, unknown][]);
    const failed = results?.find(([err]) => err !== null)?.[0];
    if (failed) this.options.logger.warn({ err: failed.message }, "cannot write capacity leases to Redis");
  }

  /** Pushes the expiry of every lease this instance holds forward (re-adding lost ones). */
  async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const expiry = this.options.now() + this.options.leaseSeconds * 1000;
    const byKey = new Map<string, string[]>();
    for (const byGateway of this.held.values())
      for (const [fqdn, members] of byGateway) {
        const key = this.options.keys.gatewayLeases(fqdn);
        byKey.set(key, [...(byKey.get(key) ?? []), ...members]);
      }
    const pipeline = this.options.client.pipeline();
    for (const [key, members] of byKey) pipeline.zadd(key, ...members.flatMap((m) => [expiry, m]));
    await pipeline.exec().catch(() => undefined);
  }

  /**
   * Counts the limited gateways again and reports their load. Calls end without a routing
   * decision, so without this the gauges (and the 90% alert) would keep the last value seen
   * when routing, however long ago.
   */
  async refreshLoad(): Promise<void> {
    const known = [...this.limits];
    if (known.length === 0) return;
    let counts: number[];
    try {
      counts = await this.liveCounts(known.map(([fqdn]) => fqdn));
    } catch {
      return;
    }
    known.forEach(([fqdn, limit], i) =>
      this.report({ gateway: fqdn, callsInProgress: counts[i] ?? 0, maxConcurrentSessions: limit }),
    );
  }

  /**
   * Live leases per gateway across instances (lapsed ones dropped), plus this instance's
   * changes not yet written. Throws when Redis does not answer in time.
   */
  private async liveCounts(fqdns: readonly string[]): Promise<number[]> {
    const keys = fqdns.map((fqdn) => this.options.keys.gatewayLeases(fqdn));
    // What Redis has not been told of yet, as of asking: a flush that goes out while the count
    // is under way reaches Redis after it (one connection, in order), so reading `unwritten`
    // after the answer would count those leases nowhere (a full gateway seen as free under load;
    // test/store/capacity-leases.test.ts caught it). The count itself leaves at the end of this
    // turn (auto-pipelining); a flush from a timer of the same turn would reach Redis first and
    // its leases count twice: an error on the safe side, at most one 10-ms window's leases.
    const unwritten = keys.map((key) => this.unwritten(key));
    const counts = (await withDeadline(
      this.options.client.eval(COUNT_SCRIPT, keys.length, ...keys, String(this.options.now())),
      CALL_PATH_TIMEOUT_MS,
      "the gateway capacity count",
    )) as number[];
    return keys.map((_key, i) => (counts[i] ?? 0) + (unwritten[i] ?? 0));
  }

  private report(load: GatewayLoad): void {
    const high = load.callsInProgress >= CAPACITY_ALERT_RATIO * load.maxConcurrentSessions;
    if (high && !this.alerting.has(load.gateway)) {
      this.alerting.add(load.gateway);
      this.options.logger.warn(load, "gateway near capacity (cluster-wide)");
    } else if (!high && this.alerting.has(load.gateway)) {
      this.alerting.delete(load.gateway);
      this.options.logger.info(load, "gateway below capacity alert (cluster-wide)");
    }
    this.options.onLoad?.(load, high);
  }
}

function addTo(map: Map<string, Set<string>>, key: string, member: string): void {
  const set = map.get(key);
  if (set === undefined) map.set(key, new Set([member]));
  else set.add(member);
}
