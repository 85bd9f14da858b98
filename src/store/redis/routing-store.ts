// The routing objects in Redis as a versioned key space: each push or admin write stores a
// complete new version under its own key and then moves the `active` pointer to it in one
// script (compare-and-set on the version it was built from), so a reader sees either the old
// or the new version, never half of a change. All keys share the `{<prefix>:routing}` hash tag,
// so the script runs on one Cluster slot. Old versions linger for a while (readers that just
// read the pointer can still fetch them), then expire.
import type { RoutingDocument } from "../routing-document.js";
import type { RedisClient } from "./connection.js";
import type { RedisKeys } from "./keys.js";

/** Seconds an old version stays readable after the switch. */
export const OLD_VERSION_RETENTION_SECONDS = 600;

// KEYS: active, new version, effective plans, old version.
// ARGV: expected active ("" when none yet), new version, document, retention, users to evict...
const SWITCH_SCRIPT = `
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[1] ~= '' then redis.call('EXPIRE', KEYS[4], tonumber(ARGV[4])) end
for i = 5, #ARGV do redis.call('HDEL', KEYS[3], ARGV[i]) end
return 1
`;

// KEYS: active, effective plans. ARGV: version the plan was built on, user, JSON.
// Only written when that version is still active: a late write cannot resurrect a stale plan.
const PUT_EFFECTIVE_SCRIPT = `
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
`;

export interface RoutingVersion {
  readonly version: number;
  readonly document: RoutingDocument;
}

/** What an instance hears on the change channel. */
export interface RoutingChange {
  readonly version: number;
  /** Users whose effective dial plan changed (lower-cased). */
  readonly users: readonly string[];
}

export class RoutingStoreError extends Error {
  constructor(
    readonly code: "unavailable" | "conflict" | "corrupt",
    message: string,
  ) {
    super(message);
  }
}

export class RedisRoutingStore {
  constructor(
    private readonly client: RedisClient,
    readonly keys: RedisKeys,
    /**
     * Why Redis is known to be down (null while it is not): reads and writes then fail at once
     * instead of waiting for a server that does not answer (a write sent to a silent Redis
     * could still be carried out later, so "nothing was changed" would not be true).
     */
    private readonly outage: () => string | null = () => null,
  ) {}

  private checkAvailable(): void {
    const why = this.outage();
    if (why !== null) throw new RoutingStoreError("unavailable", why);
  }

  async activeVersion(): Promise<number | null> {
    this.checkAvailable();
    const v = await this.client.get(this.keys.routingActive);
    return v === null ? null : Number(v);
  }

  /** The version in force, or null when nothing was ever pushed. */
  async readActive(): Promise<RoutingVersion | null> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const version = await this.activeVersion();
      if (version === null) return null;
      const text = await this.client.get(this.keys.routingVersion(version));
      // The pointer moved and the old version expired between the two reads: read again.
      if (text === null) continue;
      try {
        return { version, document: JSON.parse(text) as RoutingDocument };
      } catch {
        throw new RoutingStoreError("corrupt", `routing version ${version} in Redis is not valid JSON`);
      }
    }
    throw new RoutingStoreError("conflict", "the routing version kept changing while it was read");
  }

  /**
   * Stores `document` as the version after `expected` and switches to it, evicting the given
   * users' effective plans in the same step. Returns the new version, or null when another
   * writer switched first (the caller rebuilds its change on the newer version and retries).
   */
  async switchVersion(
    expected: number | null,
    document: RoutingDocument,
    evictUsers: Iterable<string>,
  ): Promise<number | null> {
    this.checkAvailable();
    const next = (expected ?? 0) + 1;
    const k = this.keys;
    const done = await this.client.eval(
      SWITCH_SCRIPT,
      4,
      k.routingActive,
      k.routingVersion(next),
      k.effectivePlans,
      k.routingVersion(expected ?? 0),
      expected === null ? "" : String(expected),
      String(next),
      JSON.stringify(document),
      String(OLD_VERSION_RETENTION_SECONDS),
      ...evictUsers,
    );
    return done === 1 ? next : null;
  }

  async publishChange(change: RoutingChange): Promise<void> {
    await this.client.publish(this.keys.routingChannel, JSON.stringify(change));
  }

  async getEffectivePlan(userId: string): Promise<string | null> {
    return this.client.hget(this.keys.effectivePlans, userId.toLowerCase());
  }

  async putEffectivePlan(version: number, userId: string, json: string): Promise<boolean> {
    const r = await this.client.eval(
      PUT_EFFECTIVE_SCRIPT,
      2,
      this.keys.routingActive,
      this.keys.effectivePlans,
      String(version),
      userId.toLowerCase(),
      json,
    );
    return r === 1;
  }

  /** The shared digest nonce key (created by the first instance, then reused by all). */
  async nonceSecret(candidate: Buffer): Promise<Buffer> {
    return this.sharedSecret(this.keys.nonceSecret, candidate);
  }

  /** The shared paging-cursor key of the carrier API (created by the first instance). */
  async cursorSecret(candidate: Buffer): Promise<Buffer> {
    return this.sharedSecret(this.keys.cursorSecret, candidate);
  }

  private async sharedSecret(key: string, candidate: Buffer): Promise<Buffer> {
    await this.client.set(key, candidate.toString("hex"), "NX");
    const hex = await this.client.get(key);
    return hex === null ? candidate : Buffer.from(hex, "hex");
  }
}

export function parseRoutingChange(message: string): RoutingChange | null {
  try {
    const v = JSON.parse(message) as Partial<RoutingChange>;
    if (typeof v.version !== "number" || !Array.isArray(v.users)) return null;
    return { version: v.version, users: v.users.filter((u): u is string => typeof u === "string") };
  } catch {
    return null;
  }
}
