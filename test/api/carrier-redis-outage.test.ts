// Redis killed under a running instance (real redis-server, real HTTP): the carrier API's reads
// answer 503 with Retry-After in the contract's error shape (not 500), and webhook delivery goes
// on by itself once Redis is back — every record delivered, signed, none skipped. (A CSV export
// cut off mid-stream is tested in carrier-store-errors.test.ts.)
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dialgate, startDialgate } from "../../src/app.js";
import type { CallRecord } from "../../src/calls/call-record.js";
import { carrierSchema, redisSchema } from "../../src/config/schema.js";
import { verifySignature } from "../../src/delivery/webhook/signature.js";
import type { WebhookSettings } from "../../src/delivery/webhook/webhook-worker.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { instanceConfig, pushRouting } from "../support/redis-dialgate.js";
import { RedisServerProcess } from "../support/redis-server.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";
import { cdr } from "./support/carrier-harness.js";

const KEY = "outage-carrier-key";
const SECRET = "whsec-redis-outage";
const FAST: Partial<WebhookSettings> = {
  maxBatchRecords: 2,
  maxBatchDelayMs: 30,
  pollIntervalMs: 20,
  maxAttempts: 4,
  backoff: { baseMs: 20, maxMs: 80 },
  timeoutMs: 2_000,
  loopBackoff: { baseMs: 50, maxMs: 200 },
};

let redis: RedisServerProcess;
let client: RedisClient;
let rx: WebhookReceiver;
let dialgate: Dialgate;

beforeAll(async () => {
  // Persistent: the stream and the delivery position survive the outage, as in production.
  redis = await RedisServerProcess.start({ persistent: true });
  client = createRedisClient({ settings: redisSchema.parse({ url: redis.url }) });
  client.on("error", () => undefined);
  await waitForRedisReady(client, 10_000, "test redis");
  rx = await WebhookReceiver.start();
  await pushRouting(new RedisRoutingStore(client, new RedisKeys("dialgate")), {
    gatewayPort: 5090,
    carriers: [
      carrierSchema.parse({
        id: "fabrikam",
        name: "Fabrikam",
        apiKeySha256: [createHash("sha256").update(KEY).digest("hex")],
        cdrWebhook: { url: rx.url, secretEnv: "FABRIKAM_WEBHOOK_SECRET" },
      }),
    ],
  });
  dialgate = await startDialgate(instanceConfig(await freeSipPort(), { url: redis.url }), {
    env: { FABRIKAM_WEBHOOK_SECRET: SECRET },
    webhook: FAST,
  });
});

afterAll(async () => {
  await dialgate?.stop();
  await rx?.close();
  client?.disconnect();
  await redis?.cleanup();
});

const api = (path: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${dialgate.http.address.port}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
  });

async function append(n: number): Promise<CallRecord[]> {
  const out: CallRecord[] = [];
  for (let i = 0; i < n; i++) {
    const record = cdr(["fabrikam"]);
    await dialgate.cdrLog.append({ kind: "cdr", record });
    out.push(record);
  }
  return out;
}

describe("the carrier API and webhooks with Redis down", () => {
  it("answers 503 with Retry-After on every store-backed route while Redis is down, 200 when it is back", async () => {
    const [first] = await append(1);
    expect((await api("/v1/carrier/cdrs")).status).toBe(200);
    await redis.stop();
    try {
      const reads = [
        "/v1/carrier/cdrs",
        `/v1/carrier/cdrs/${first?.id}`,
        "/v1/carrier/cdrs.csv",
        "/v1/carrier/reconciliation?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z",
        "/v1/carrier/webhook/dead-letters",
      ];
      for (const path of reads) {
        const r = await api(path);
        expect(r.status, path).toBe(503);
        expect(r.headers.get("retry-after"), path).toBe("10");
        expect(r.headers.get("content-type"), path).toMatch(/^application\/json/);
        const body = (await r.json()) as { error: { code: string; message: string; details: unknown[] } };
        expect(body.error.code, path).toBe("store_unavailable");
        expect(body.error.message, path).toMatch(/try again later/);
        expect(body.error.details).toEqual([]);
      }
      const posted = await api("/v1/carrier/durations", {
        method: "POST",
        body: JSON.stringify({
          durations: [{ correlationId: "c1", startDateTime: "2026-01-01T10:00:00Z", durationSeconds: 5 }],
        }),
      });
      expect(posted.status).toBe(503);
      expect(posted.headers.get("retry-after")).toBe("10");
      // Authentication and the numbers need no store: still answered.
      expect((await api("/v1/carrier/numbers")).status).toBe(200);
    } finally {
      await redis.start();
    }
    await waitFor(
      async () => (await api("/v1/carrier/cdrs")).status === 200,
      20_000,
      "reads after Redis is back",
    );
  });

  it("goes on delivering webhooks after Redis went away in the middle of a delivery", async () => {
    const before = await append(2);
    await waitFor(
      () => before.every((r) => rx.acknowledgedIds().includes(r.id)),
      20_000,
      "delivery before the outage",
    );
    // The next batch is answered 2xx only after Redis is gone: its position cannot be saved.
    const inFlightRequest = rx.requests.length;
    rx.behaviour = (n) => (n === inFlightRequest ? { status: 200, delayMs: 700 } : 200);
    const inFlight = await append(2);
    await waitFor(() => rx.requests.length > inFlightRequest, 20_000, "the batch in flight");
    await redis.stop();
    // Calls end during the outage: their records wait in the local spool (cdr.file).
    const during = await append(3);
    const readyz = async () => {
      const r = await fetch(`http://127.0.0.1:${dialgate.http.address.port}/readyz`);
      return {
        status: r.status,
        body: (await r.json()) as { checks: Record<string, { ok: boolean; detail?: string }> },
      };
    };
    try {
      await waitFor(
        async () => (await readyz()).body.checks.webhookDelivery?.ok === false,
        20_000,
        "webhook delivery reported degraded",
      );
      expect((await readyz()).body.checks.webhookDelivery?.detail).toMatch(/^carrier fabrikam: failing for/);
      const metrics = await (await fetch(`http://127.0.0.1:${dialgate.http.address.port}/metrics`)).text();
      const errors = /dialgate_webhook_delivery_errors_total\{carrier="fabrikam"\} (\d+)/.exec(metrics);
      expect(Number(errors?.[1])).toBeGreaterThanOrEqual(3);
    } finally {
      await redis.start();
    }
    const after = await append(2);
    const all = [...before, ...inFlight, ...during, ...after];
    await waitFor(
      () => all.every((r) => rx.acknowledgedIds().includes(r.id)),
      30_000,
      "every record delivered after the outage",
    );
    const now = Math.floor(Date.now() / 1000);
    for (const r of rx.requests) {
      expect(verifySignature(r.headers["dialgate-signature"] as string, r.rawBody, SECRET, now).ok).toBe(
        true,
      );
      for (const record of (JSON.parse(r.rawBody) as { records: { id?: unknown }[] }).records)
        expect(typeof record.id).toBe("string");
    }
    await waitFor(async () => (await readyz()).status === 200, 20_000, "ready again");
    expect((await readyz()).body.checks.webhookDelivery).toEqual({ ok: true });
  });
});
