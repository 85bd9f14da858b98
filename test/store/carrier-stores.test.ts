// What carriers submit and what webhook delivery gave up on, shared through Redis
// (src/store/redis/duration-store.ts, dead-letter-store.ts):
// * the DurationStore port behaves the same on the file, a standalone Redis and a Redis Cluster
//   (newest submission wins, even when its start moved; [from, to) ranges; carriers apart);
// * with two instances on one Redis, durations posted to one are reconciled by the other, and a
//   batch one instance dead-lettered is listed (and counted in /metrics) by both.
import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dialgate, startDialgate } from "../../src/app.js";
import type { CarrierDuration, DurationStore } from "../../src/calls/duration-store.js";
import { redisSchema } from "../../src/config/schema.js";
import { FileDurationStore } from "../../src/store/durations/file-duration-store.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisDeadLetterStore } from "../../src/store/redis/dead-letter-store.js";
import { RedisDurationStore } from "../../src/store/redis/duration-store.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { instanceConfig, pushRouting } from "../support/redis-dialgate.js";
import { RedisClusterProcess, RedisServerProcess } from "../support/redis-server.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";
import { cdrEntry } from "./support/cdr-fixtures.js";

let redis: RedisServerProcess;
let cluster: RedisClusterProcess;
let client: RedisClient;
let clusterClient: RedisClient;

beforeAll(async () => {
  [redis, cluster] = await Promise.all([RedisServerProcess.start(), RedisClusterProcess.start()]);
  client = createRedisClient({ settings: redisSchema.parse({ url: redis.url }) });
  clusterClient = createRedisClient({
    settings: redisSchema.parse({ url: cluster.urls[0], cluster: true, clusterNodes: cluster.urls.slice(1) }),
  });
  clusterClient.on("error", () => undefined);
  await waitForRedisReady(client, 10_000, "test redis");
  await waitForRedisReady(clusterClient, 15_000, "test cluster");
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  clusterClient?.disconnect();
  await redis?.cleanup();
  await cluster?.cleanup();
});

function item(correlationId: string, startIso: string, durationSeconds: number): CarrierDuration {
  return {
    correlationId,
    startDateTime: startIso,
    startMs: Date.parse(startIso),
    durationSeconds,
    calleeNumber: "+14255550123",
    callerNumber: null,
    receivedDateTime: "2026-03-02T00:00:00.000Z",
  };
}

const stores: [string, () => Promise<DurationStore>][] = [
  ["file", () => FileDurationStore.open(join(mkdtempSync(join(tmpdir(), "dg-dur-")), "durations.jsonl"))],
  ["standalone Redis", async () => new RedisDurationStore(client, new RedisKeys(`t${Math.random()}`))],
  ["Redis Cluster", async () => new RedisDurationStore(clusterClient, new RedisKeys(`t${Math.random()}`))],
];

describe.each(stores)("the DurationStore port on the %s", (_, open) => {
  it("keeps the newest item per id, answers [from, to) by start, and keeps carriers apart", async () => {
    const store = await open();
    await store.put("fabrikam", [
      item("a", "2026-03-01T10:00:00Z", 30),
      item("b", "2026-03-01T11:00:00Z", 40),
      item("edge", "2026-03-02T00:00:00Z", 5),
    ]);
    // A re-sent id replaces the first, and its start moved out of the day.
    await store.put("fabrikam", [
      item("b", "2026-02-28T11:00:00Z", 45),
      item("c", "2026-03-01T00:00:00Z", 50),
    ]);
    await store.put("northwind", [item("a", "2026-03-01T10:00:00Z", 99)]);
    const day = await store.inRange(
      "fabrikam",
      Date.parse("2026-03-01T00:00:00Z"),
      Date.parse("2026-03-02T00:00:00Z"),
    );
    expect(day.map((d) => [d.correlationId, d.durationSeconds]).sort()).toEqual([
      ["a", 30],
      ["c", 50],
    ]);
    const before = await store.inRange("fabrikam", 0, Date.parse("2026-03-01T00:00:00Z"));
    expect(before).toEqual([item("b", "2026-02-28T11:00:00Z", 45)]);
    const other = await store.inRange("northwind", 0, Number.MAX_SAFE_INTEGER);
    expect(other.map((d) => d.durationSeconds)).toEqual([99]);
    await store.close();
  });
});

describe("the dead-letter list on a Redis Cluster", () => {
  it("keeps each letter with its body under the carrier's slot, and counts them", async () => {
    const keys = new RedisKeys(`t${Math.random()}`);
    const letters = new RedisDeadLetterStore(clusterClient, keys);
    const letter = await letters.add(
      {
        carrierId: "fabrikam",
        url: "http://127.0.0.1:9/",
        failedDateTime: "2026-03-01T00:00:00.000Z",
        attempts: 3,
        lastError: "HTTP 503",
        recordIds: ["r1", "r2"],
      },
      '{"records":[]}',
    );
    expect(await letters.list("fabrikam")).toEqual([letter]);
    expect(await letters.list("northwind")).toEqual([]);
    expect(await letters.count("fabrikam")).toBe(1);
    expect(await clusterClient.hget(keys.carrierDeadLetterBodies("fabrikam"), letter.id)).toBe(
      '{"records":[]}',
    );
  });
});

describe("two instances on one Redis", () => {
  const fabrikamKey = "fabrikam-key";
  let receiver: WebhookReceiver;
  let a: Dialgate | null = null;
  let b: Dialgate | null = null;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    receiver.behaviour = () => 500;
    await pushRouting(new RedisRoutingStore(client, new RedisKeys("dialgate")), {
      gatewayPort: 5090,
      carriers: [
        {
          id: "fabrikam",
          name: "Fabrikam",
          apiKeySha256: [createHash("sha256").update(fabrikamKey).digest("hex")],
          numbers: [],
          cdrWebhook: { url: receiver.url, secretEnv: "FABRIKAM_WEBHOOK_SECRET" },
        },
      ],
    });
    const deps = {
      env: { FABRIKAM_WEBHOOK_SECRET: "shared-secret" },
      webhook: {
        maxBatchDelayMs: 50,
        pollIntervalMs: 50,
        maxAttempts: 2,
        backoff: { baseMs: 20, maxMs: 50 },
      },
    };
    // Each instance with its own cdr.file directory, as on two machines.
    const own = (port: number) => {
      const c = instanceConfig(port, { url: redis.url });
      return { ...c, cdr: { ...c.cdr, file: join(mkdtempSync(join(tmpdir(), "dg-inst-")), "cdr.jsonl") } };
    };
    a = await startDialgate(own(await freeSipPort()), deps);
    b = await startDialgate(own(await freeSipPort()), deps);
  }, 60_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await receiver?.close();
  });

  const api = (d: Dialgate | null, path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${d!.http.address.port}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${fabrikamKey}`, "content-type": "application/json" },
    });

  it("reconciles on one instance the durations posted to the other", async () => {
    // dialgate's own record of the call, written through instance A's stream.
    await a!.cdrLog.append(cdrEntry("shared-1", Date.parse("2026-01-01T12:00:00Z")));
    const posted = await api(a, "/v1/carrier/durations", {
      method: "POST",
      body: JSON.stringify({
        durations: [
          {
            correlationId: "call-shared-1@127.0.0.1",
            startDateTime: "2026-01-01T12:00:01Z",
            durationSeconds: 60,
          },
          { correlationId: "only-at-carrier", startDateTime: "2026-01-01T13:00:00Z", durationSeconds: 12 },
        ],
      }),
    });
    expect(posted.status, await posted.text()).toBeLessThan(300);
    const r = await api(b, "/v1/carrier/reconciliation?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z");
    const body = (await r.json()) as { calls: { correlationId: string; status: string }[] };
    expect(r.status).toBe(200);
    expect(body.calls.map((i) => [i.correlationId, i.status]).sort()).toEqual([
      ["call-shared-1@127.0.0.1", "matched"],
      ["only-at-carrier", "missingAtDialgate"],
    ]);
  });

  it("lists and counts a batch dead-lettered by either instance on both", async () => {
    await b!.cdrLog.append(cdrEntry("undeliverable-1"));
    type Letters = { deadLetters: { recordIds: string[] }[] };
    const lettersOf = async (d: Dialgate | null) =>
      ((await (await api(d, "/v1/carrier/webhook/dead-letters")).json()) as Letters).deadLetters;
    await waitFor(
      async () => (await lettersOf(a)).some((l) => l.recordIds.includes("undeliverable-1")),
      20_000,
      "the dead letter listed by instance A",
    );
    for (const d of [a, b]) {
      expect((await lettersOf(d)).flatMap((l) => l.recordIds)).toContain("undeliverable-1");
      const metrics = await (await fetch(`http://127.0.0.1:${d!.http.address.port}/metrics`)).text();
      expect(metrics).toMatch(/dialgate_webhook_dead_letters\{carrier="fabrikam"\} [1-9]/);
    }
  });
});
