// drachtio-server's CDR events by Call-ID in Redis (the drachtio edge's DrachtioCallStore port,
// src/sip/drachtio/call-store.ts). drachtio-server hands each CDR event to ONE of the
// applications connected to it, round-robin, so with several dialgate instances the `cdr:stop`
// of a call often reaches an instance that never saw its INVITE: whoever receives an event
// writes it here, and the instance that bridges the call reads it in its sweep
// (cdr-reconciler.ts).
//
// Layout: one hash per Call-ID plus a sorted set of Call-IDs by last write (the sweep's
// `idleSince`), all under the `{<prefix>:drachtio}` hash tag so the update script touches one
// Cluster slot. The sweep deletes records after 10 minutes; each hash also expires after a day
// in case no instance sweeps any more.
import type {
  DrachtioCallRecord,
  DrachtioCallStore,
  DrachtioCallUpdate,
} from "../../sip/drachtio/call-store.js";
import { CALL_PATH_TIMEOUT_MS, type RedisClient, withDeadline } from "./connection.js";
import type { RedisKeys } from "./keys.js";

/** How long a record outlives its last write when no sweep deletes it. */
const RECORD_TTL_MS = 24 * 3_600_000;
/** Records handed to one sweep at most (the rest are next). */
const IDLE_BATCH = 1_000;

// KEYS: the call's hash, the by-update set. ARGV: Call-ID, now, ttl ms, then field/value pairs.
const UPDATE_SCRIPT = `
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]), ARGV[1])
return 1
`;

const FIELDS = ["attemptAt", "startAt", "stopAt", "stopReason"] as const;

export class RedisDrachtioCallStore implements DrachtioCallStore {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async update(callId: string, update: DrachtioCallUpdate, now: number): Promise<void> {
    const pairs: string[] = [];
    for (const f of FIELDS) {
      const v = update[f];
      if (v !== undefined && v !== null) pairs.push(f, String(v));
    }
    await withDeadline(
      this.client.eval(
        UPDATE_SCRIPT,
        2,
        this.keys.drachtioCall(callId),
        this.keys.drachtioCallsByUpdate,
        callId,
        String(now),
        String(RECORD_TTL_MS),
        ...pairs,
      ),
      CALL_PATH_TIMEOUT_MS,
      "a drachtio CDR event write",
    );
  }

  async get(callId: string): Promise<DrachtioCallRecord | undefined> {
    const h = await withDeadline(
      this.client.hgetall(this.keys.drachtioCall(callId)),
      CALL_PATH_TIMEOUT_MS,
      "a drachtio CDR record read",
    );
    return recordOf(callId, h);
  }

  async idleSince(cutoff: number): Promise<readonly DrachtioCallRecord[]> {
    const ids = await withDeadline(
      this.client.zrangebyscore(
        this.keys.drachtioCallsByUpdate,
        "-inf",
        `(${cutoff}`,
        "LIMIT",
        0,
        IDLE_BATCH,
      ),
      CALL_PATH_TIMEOUT_MS,
      "the idle drachtio CDR records",
    );
    if (ids.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.drachtioCall(id));
    const replies =
      (await withDeadline(pipeline.exec(), CALL_PATH_TIMEOUT_MS, "the idle drachtio CDR records")) ?? [];
    const out: DrachtioCallRecord[] = [];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const r = recordOf(id, (replies[i]?.[1] ?? {}) as Record<string, string>);
      if (r === undefined) gone.push(id);
      else out.push(r);
    });
    // Hashes that expired by themselves: drop their index entries.
    if (gone.length > 0) await this.client.zrem(this.keys.drachtioCallsByUpdate, ...gone);
    return out;
  }

  async delete(callId: string): Promise<void> {
    await withDeadline(
      this.client
        .multi()
        .del(this.keys.drachtioCall(callId))
        .zrem(this.keys.drachtioCallsByUpdate, callId)
        .exec(),
      CALL_PATH_TIMEOUT_MS,
      "a drachtio CDR record removal",
    );
  }
}

function recordOf(callId: string, h: Record<string, string>): DrachtioCallRecord | undefined {
  if (h.updatedAt === undefined) return undefined;
  const num = (v: string | undefined) => (v === undefined || v === "" ? null : Number(v));
  return {
    callId,
    attemptAt: num(h.attemptAt),
    startAt: num(h.startAt),
    stopAt: num(h.stopAt),
    stopReason: h.stopReason ?? null,
    updatedAt: Number(h.updatedAt),
  };
}
