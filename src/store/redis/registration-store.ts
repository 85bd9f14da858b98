// Registrar bindings in Redis, so a REGISTER through one instance makes the phone reachable
// through every other. One hash per address-of-record (field = contact key, value = binding),
// expiring with its longest-lived binding; expired bindings are also filtered on read, since a
// hash expires as a whole. Each instance keeps the last bindings it saw per AOR: while Redis is
// unreachable, those keep routing (a known registration keeps working) and new REGISTERs fail
// with a clear error instead of being half-stored.
import type { RegistrationBinding, RegistrationStore } from "../../directory/registrations.js";
import { CALL_PATH_TIMEOUT_MS, type RedisClient, withDeadline } from "./connection.js";
import type { RedisKeys } from "./keys.js";

// KEYS: the AOR's hash. ARGV: field, binding JSON, expiresAt (ms since epoch).
const PUT_SCRIPT = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = redis.call('PTTL', KEYS[1])
local at = tonumber(ARGV[3])
if ttl < 0 or now + ttl < at then redis.call('PEXPIREAT', KEYS[1], at) end
return 1
`;

export class RegistrationStoreUnavailable extends Error {
  readonly code = "store_unavailable";
}

/** How many AORs the local fallback copy remembers (least recently seen dropped first). */
const LOCAL_COPY_LIMIT = 100_000;

export class RedisRegistrationStore implements RegistrationStore {
  private readonly known = new Map<string, readonly RegistrationBinding[]>();

  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async list(aor: string, now: number): Promise<readonly RegistrationBinding[]> {
    const id = aor.toLowerCase();
    let values: Record<string, string>;
    try {
      values = await withDeadline(
        this.client.hgetall(this.keys.registrations(id)),
        CALL_PATH_TIMEOUT_MS,
        "a registration lookup",
      );
    } catch {
      // Redis is down or not answering: the bindings this instance last saw still route (until
      // they expire).
      return (this.known.get(id) ?? []).filter((b) => b.expiresAt > now);
    }
    const live: RegistrationBinding[] = [];
    const expired: string[] = [];
    for (const [field, text] of Object.entries(values)) {
      const b = parseBinding(text);
      if (b !== null && b.expiresAt > now) live.push(b);
      else expired.push(field);
    }
    if (expired.length > 0)
      void this.client.hdel(this.keys.registrations(id), ...expired).catch(() => undefined);
    this.remember(id, live);
    return live;
  }

  async put(binding: RegistrationBinding): Promise<void> {
    const id = binding.aor.toLowerCase();
    try {
      await withDeadline(
        this.client.eval(
          PUT_SCRIPT,
          1,
          this.keys.registrations(id),
          binding.key,
          JSON.stringify(binding),
          String(binding.expiresAt),
        ),
        CALL_PATH_TIMEOUT_MS,
        "a registration write",
      );
    } catch (err) {
      throw new RegistrationStoreUnavailable(
        `cannot store the registration: Redis unavailable (${(err as Error).message})`,
      );
    }
    const others = (this.known.get(id) ?? []).filter((b) => b.key !== binding.key);
    this.remember(id, [...others, binding]);
  }

  async remove(aor: string, key: string): Promise<void> {
    const id = aor.toLowerCase();
    try {
      await withDeadline(
        this.client.hdel(this.keys.registrations(id), key),
        CALL_PATH_TIMEOUT_MS,
        "a registration removal",
      );
    } catch (err) {
      throw new RegistrationStoreUnavailable(
        `cannot remove the registration: Redis unavailable (${(err as Error).message})`,
      );
    }
    this.remember(
      id,
      (this.known.get(id) ?? []).filter((b) => b.key !== key),
    );
  }

  async removeAll(aor: string): Promise<void> {
    const id = aor.toLowerCase();
    try {
      await withDeadline(
        this.client.del(this.keys.registrations(id)),
        CALL_PATH_TIMEOUT_MS,
        "a registration removal",
      );
    } catch (err) {
      throw new RegistrationStoreUnavailable(
        `cannot remove the registrations: Redis unavailable (${(err as Error).message})`,
      );
    }
    this.known.delete(id);
  }

  private remember(aor: string, bindings: readonly RegistrationBinding[]): void {
    this.known.delete(aor);
    if (bindings.length === 0) return;
    this.known.set(aor, bindings);
    if (this.known.size > LOCAL_COPY_LIMIT) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }
}

function parseBinding(text: string): RegistrationBinding | null {
  try {
    const b = JSON.parse(text) as RegistrationBinding;
    return typeof b.aor === "string" && typeof b.expiresAt === "number" ? b : null;
  } catch {
    return null;
  }
}
