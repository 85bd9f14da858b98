// The webhook dead-letter list shared by every instance on one Redis: whichever instance holds a
// carrier's delivery lease when a batch gives up writes it here, and the carrier API of any
// instance lists it. Per carrier, a list of letters (oldest first) and a hash of their exact
// bodies, written together in one MULTI under the carrier's hash tag. The bodies are kept apart
// so that listing letters never transfers megabytes of CDRs.
import { randomUUID } from "node:crypto";
import type { DeadLetter, DeadLetterStore } from "../../delivery/webhook/delivery-state.js";
import { API_TIMEOUT_MS, type RedisClient, withDeadline } from "./connection.js";
import type { RedisKeys } from "./keys.js";

function storedLetter(text: string): DeadLetter | null {
  try {
    const v = JSON.parse(text) as Partial<DeadLetter> | null;
    if (typeof v?.id === "string" && typeof v.carrierId === "string" && Array.isArray(v.recordIds))
      return v as DeadLetter;
  } catch {
    // Not ours (a hand edit): left out of the listing.
  }
  return null;
}

export class RedisDeadLetterStore implements DeadLetterStore {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async add(letter: Omit<DeadLetter, "id">, body: string): Promise<DeadLetter> {
    const full: DeadLetter = { id: randomUUID(), ...letter };
    const results = await withDeadline(
      this.client
        .multi()
        .hset(this.keys.carrierDeadLetterBodies(full.carrierId), full.id, body)
        .rpush(this.keys.carrierDeadLetters(full.carrierId), JSON.stringify(full))
        .exec(),
      API_TIMEOUT_MS,
      "the dead-letter write",
    );
    if (results === null || results === undefined) throw new Error("the dead letter was not written");
    const failed = results.find(([err]) => err !== null)?.[0];
    if (failed) throw failed;
    return full;
  }

  async list(carrierId: string): Promise<readonly DeadLetter[]> {
    const texts = await withDeadline(
      this.client.lrange(this.keys.carrierDeadLetters(carrierId), 0, -1),
      API_TIMEOUT_MS,
      "the dead-letter list",
    );
    return texts.flatMap((t) => storedLetter(t) ?? []);
  }

  count(carrierId: string): Promise<number> {
    return withDeadline(
      this.client.llen(this.keys.carrierDeadLetters(carrierId)),
      API_TIMEOUT_MS,
      "the dead-letter count",
    );
  }

  async close(): Promise<void> {
    // The connection belongs to the shared state, which closes it.
  }
}
