// Webhook delivery with two instances on one Redis (src/store/redis/webhook-coordination.ts):
// the records of both instances reach the carrier's receiver once each - one instance holds the
// carrier's lease and delivers, the other waits - and when the holder stops, the other takes
// over from the shared position.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dialgate, startDialgate } from "../../src/app.js";
import { redisSchema } from "../../src/config/schema.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { instanceConfig, pushRouting } from "../support/redis-dialgate.js";
import { RedisServerProcess } from "../support/redis-server.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";
import { cdrEntry } from "./support/cdr-fixtures.js";

let redis: RedisServerProcess;
let client: RedisClient;
let receiver: WebhookReceiver;
let a: Dialgate | null = null;
let b: Dialgate | null = null;

const deps = {
  env: { FABRIKAM_WEBHOOK_SECRET: "shared-secret" },
  webhook: { maxBatchDelayMs: 100, pollIntervalMs: 50 },
};

beforeAll(async () => {
  redis = await RedisServerProcess.start();
  client = createRedisClient({ settings: redisSchema.parse({ url: redis.url }) });
  await waitForRedisReady(client, 10_000, "test redis");
  receiver = await WebhookReceiver.start();
  await pushRouting(new RedisRoutingStore(client, new RedisKeys("dialgate")), {
    gatewayPort: 5090,
    carriers: [
      {
        id: "fabrikam",
        name: "Fabrikam",
        apiKeySha256: [createHash("sha256").update("k").digest("hex")],
        numbers: [],
        cdrWebhook: { url: receiver.url, secretEnv: "FABRIKAM_WEBHOOK_SECRET" },
      },
    ],
  });
  a = await startDialgate(instanceConfig(await freeSipPort(), { url: redis.url }), deps);
  b = await startDialgate(instanceConfig(await freeSipPort(), { url: redis.url }), deps);
}, 60_000);

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await receiver?.close();
  client?.disconnect();
  await redis?.cleanup();
});

/** How many times each record id reached the receiver. */
function deliveries(): Map<string, number> {
  const seen = new Map<string, number>();
  for (const r of receiver.requests) {
    const body = JSON.parse(r.rawBody) as { records: { id: string }[] };
    for (const rec of body.records) seen.set(rec.id, (seen.get(rec.id) ?? 0) + 1);
  }
  return seen;
}

describe("webhook delivery shared through Redis", () => {
  it("delivers every instance's records once, and the other instance takes over when the holder stops", async () => {
    for (let i = 0; i < 10; i++) {
      await a!.cdrLog.append(cdrEntry(`from-a-${i}`));
      await b!.cdrLog.append(cdrEntry(`from-b-${i}`));
    }
    await waitFor(() => deliveries().size === 20, 20_000, "20 records at the receiver");
    // Long enough for a second deliverer, if there were one, to have posted its copies.
    await new Promise((r) => setTimeout(r, 1500));
    expect([...deliveries().values()].every((n) => n === 1)).toBe(true);
    expect(deliveries().size).toBe(20);

    // The lease holder stops (releasing the lease); the other goes on from the shared position.
    const holder = (await client.get(new RedisKeys("dialgate").webhookLease("fabrikam"))) ?? "";
    expect(holder).not.toBe("");
    await a!.stop();
    a = null;
    for (let i = 0; i < 5; i++) await b!.cdrLog.append(cdrEntry(`after-${i}`));
    await waitFor(() => deliveries().size === 25, 20_000, "the 5 later records at the receiver");
    expect(
      [...deliveries().entries()].filter(([id]) => id.startsWith("after-")).every(([, n]) => n === 1),
    ).toBe(true);
  });
});
