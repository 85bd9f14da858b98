// With Redis, carriers, tenants and routing objects come from the pushed routing version: the
// carrier API authenticates against the carriers in Redis and the admin API shows what Redis
// holds, following a new push without a restart.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dialgate } from "../../src/app.js";
import { startDialgate } from "../../src/app.js";
import { redisSchema } from "../../src/config/schema.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { cdrEntry } from "../store/support/cdr-fixtures.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { instanceConfig, pushRouting } from "../support/redis-dialgate.js";
import { RedisServerProcess } from "../support/redis-server.js";

const KEY = "redis-carrier-key";
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

let redis: RedisServerProcess;
let client: RedisClient;
let store: RedisRoutingStore;
let dialgate: Dialgate;
let other: Dialgate;

async function push(numbers: string[]): Promise<void> {
  await pushRouting(store, {
    gatewayPort: 5090,
    carriers: [
      {
        id: "fabrikam",
        name: "Fabrikam",
        apiKeySha256: [sha(KEY)],
        numbers: numbers.map((number) => ({ number, tenant: "contoso" })),
      },
    ],
  });
}

beforeAll(async () => {
  redis = await RedisServerProcess.start();
  client = createRedisClient({ settings: redisSchema.parse({ url: redis.url }) });
  await waitForRedisReady(client, 10_000, "test redis");
  store = new RedisRoutingStore(client, new RedisKeys("dialgate"));
  await push(["+14255550100"]);
  const config = instanceConfig(await freeSipPort(), { url: redis.url });
  dialgate = await startDialgate({ ...config, http: { ...config.http, adminToken: "redis-admin" } });
  other = await startDialgate(instanceConfig(await freeSipPort(), { url: redis.url }));
});

afterAll(async () => {
  await other?.stop();
  await dialgate?.stop();
  client?.disconnect();
  await redis?.cleanup();
});

const get = (path: string, token: string) =>
  fetch(`http://127.0.0.1:${dialgate.http.address.port}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });

describe("carrier and admin APIs on Redis", () => {
  it("serve the carriers and tenants of the pushed routing version, and follow the next push", async () => {
    const first = (await (await get("/v1/carrier/numbers", KEY)).json()) as {
      numbers: { number: string; assignedTo: string }[];
    };
    expect(first.numbers).toEqual([
      expect.objectContaining({ number: "+14255550100", assignedTo: "alice@contoso.com" }),
    ]);
    const tenants = (await (await get("/v1/admin/tenants", "redis-admin")).json()) as {
      tenants: { id: string }[];
    };
    expect(tenants.tenants.map((t) => t.id)).toEqual(["contoso"]);
    await push(["+14255550100", "+14255550101"]);
    await waitFor(
      async () =>
        ((await (await get("/v1/carrier/numbers", KEY)).json()) as { numbers: unknown[] }).numbers.length ===
        2,
      20_000,
      "the pushed numbers",
    );
    expect((await get("/v1/carrier/numbers", "wrong")).status).toBe(401);
  });

  it("pages a carrier's CDRs across instances: a cursor from one is good on the other", async () => {
    for (let i = 0; i < 5; i++) await dialgate.cdrLog.append(cdrEntry(`shared-cursor-${i}`));
    const page = async (instance: Dialgate, query: string) => {
      const r = await fetch(`http://127.0.0.1:${instance.http.address.port}/v1/carrier/cdrs?${query}`, {
        headers: { authorization: `Bearer ${KEY}` },
      });
      expect(r.status).toBe(200);
      return (await r.json()) as { records: { id: string }[]; nextCursor: string | null };
    };
    const first = await page(dialgate, "limit=2");
    expect(first.records.map((r) => r.id)).toEqual(["shared-cursor-0", "shared-cursor-1"]);
    const second = await page(other, `limit=2&cursor=${encodeURIComponent(first.nextCursor ?? "")}`);
    expect(second.records.map((r) => r.id)).toEqual(["shared-cursor-2", "shared-cursor-3"]);
  });
});
