// Webhook delivery shared by every instance on one CDR stream: each carrier's delivery position
// lives in Redis, and a per-carrier lease names the one instance that delivers. Without it every
// instance would post every batch. The lease lapses when its holder stops renewing it (a crash,
// a network split): another instance then resumes from the shared position and sends again
// what was in flight, which keeps delivery at-least-once (carriers de-duplicate by `id`).
import { randomUUID } from "node:crypto";
import type { DeliveryLease, DeliveryPositionStore } from "../../delivery/webhook/delivery-state.js";
import type { RedisClient } from "./connection.js";
import type { RedisKeys } from "./keys.js";

/** Renew-if-still-mine, atomically (a lapsed lease another instance took is not touched). */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class RedisDeliveryLease implements DeliveryLease {
  /** This instance, as the lease holder. */
  private readonly token = randomUUID();

  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    private readonly ttlMs = 30_000,
  ) {}

  async hold(carrierId: string): Promise<boolean> {
    const r = await this.client.eval(RENEW, 1, this.keys.webhookLease(carrierId), this.token, this.ttlMs);
    return Number(r) === 1;
  }

  async release(carrierId: string): Promise<void> {
    await this.client.eval(RELEASE, 1, this.keys.webhookLease(carrierId), this.token);
  }
}

export class RedisDeliveryPositionStore implements DeliveryPositionStore {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async load(carrierId: string): Promise<string | null> {
    return this.client.hget(this.keys.webhookPositions, carrierId);
  }

  async save(carrierId: string, position: string): Promise<void> {
    await this.client.hset(this.keys.webhookPositions, carrierId, position);
  }
}
