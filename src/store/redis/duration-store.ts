// Carrier durations shared by every instance on one Redis: a durations POST answered by one
// instance is reconciled by any other. Per carrier, a hash (correlationId -> the item as JSON)
// holds the newest submission of each id, and a sorted set (correlationId by start ms) answers
// reconciliation's time range without reading the carrier's whole history. Both keys share the
// carrier's hash tag, so one MULTI writes a batch atomically on a Cluster too: a reader sees all
// of a batch or none of it, and a failed batch leaves nothing behind.
//
// "Durable" is what the Redis deployment makes it: the API answers after Redis acknowledged the
// write, so an instance crash loses nothing; a crash of Redis itself loses what its persistence
// had not written (AOF `appendfsync always` for none, `everysec` for up to a second).
import { type CarrierDuration, type DurationStore, storedDuration } from "../../calls/duration-store.js";
import { API_TIMEOUT_MS, type RedisClient, withDeadline } from "./connection.js";
import type { RedisKeys } from "./keys.js";

/** Items per HMGET when a range is read back (a 10,000-item batch is not one huge reply). */
const READ_CHUNK = 1_000;

export class RedisDurationStore implements DurationStore {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async put(carrierId: string, items: readonly CarrierDuration[]): Promise<void> {
    if (items.length === 0) return;
    // Within one batch a repeated id keeps its last item, as the file store's replay does.
    const newest = new Map<string, CarrierDuration>();
    for (const d of items) newest.set(d.correlationId, d);
    const fields: string[] = [];
    const scores: (string | number)[] = [];
    for (const d of newest.values()) {
      fields.push(d.correlationId, JSON.stringify(d));
      scores.push(d.startMs, d.correlationId);
    }
    const results = await withDeadline(
      this.client
        .multi()
        .hset(this.keys.carrierDurations(carrierId), ...fields)
        .zadd(this.keys.carrierDurationsByStart(carrierId), ...scores)
        .exec(),
      API_TIMEOUT_MS,
      "the durations write",
    );
    const failed = results?.find(([err]) => err !== null)?.[0];
    if (results === null || results === undefined) throw new Error("the durations batch was not applied");
    if (failed) throw failed;
  }

  async inRange(carrierId: string, fromMs: number, toMs: number): Promise<readonly CarrierDuration[]> {
    // [fromMs, toMs): the upper bound is exclusive, as in the file store.
    const ids = await withDeadline(
      this.client.zrangebyscore(this.keys.carrierDurationsByStart(carrierId), fromMs, `(${toMs}`),
      API_TIMEOUT_MS,
      "the durations range",
    );
    const out: CarrierDuration[] = [];
    for (let i = 0; i < ids.length; i += READ_CHUNK) {
      const values = await withDeadline(
        this.client.hmget(this.keys.carrierDurations(carrierId), ...ids.slice(i, i + READ_CHUNK)),
        API_TIMEOUT_MS,
        "the durations read",
      );
      for (const text of values) {
        if (text === null) continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          continue;
        }
        const d = storedDuration(parsed);
        if (d !== null) out.push(d);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    // The connection belongs to the shared state, which closes it.
  }
}
