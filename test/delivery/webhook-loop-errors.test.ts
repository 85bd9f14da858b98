// Webhook delivery survives failures of what it reads and writes besides the receiver: the CDR
// log, the delivery position and the dead-letter list (a Redis blip, a full disk). A failed turn
// is logged, counted, retried after a backoff from the saved position; nothing is skipped, and
// /readyz's entry is degraded only while turns keep failing. Real journal, real files, real
// HTTP receiver; only the failures are injected, by wrapping the real stores.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import promClient from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import type { CallRecord } from "../../src/calls/call-record.js";
import type { CdrLogReader } from "../../src/calls/cdr-log.js";
import { carrierSchema } from "../../src/config/schema.js";
import {
  type DeadLetterStore,
  type DeliveryPositionStore,
  FileDeadLetterStore,
  FilePositionStore,
} from "../../src/delivery/webhook/delivery-state.js";
import { verifySignature } from "../../src/delivery/webhook/signature.js";
import { createWebhookDelivery, type WebhookDelivery } from "../../src/delivery/webhook/webhook-delivery.js";
import type { WebhookSettings } from "../../src/delivery/webhook/webhook-worker.js";
import { type CdrJournal, openCdrJournal } from "../../src/store/cdr-journal/index.js";
import { systemClock } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";
import { cdr } from "../api/support/carrier-harness.js";
import { waitFor } from "../support/free-port.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";

const SECRET = "whsec-loop-errors";
const FAST: Partial<WebhookSettings> = {
  maxBatchRecords: 3,
  maxBatchDelayMs: 30,
  pollIntervalMs: 10,
  maxAttempts: 2,
  backoff: { baseMs: 10, maxMs: 20 },
  timeoutMs: 2_000,
  loopBackoff: { baseMs: 20, maxMs: 80 },
};

/** Rejects like ioredis does with enableOfflineQueue off while Redis is away. */
const outage = () => new Error("Stream isn't writeable and enableOfflineQueue options is false");

let dir: string;
let journal: CdrJournal | null = null;
let delivery: WebhookDelivery | null = null;
let receiver: WebhookReceiver | null = null;
let letters: DeadLetterStore | null = null;
afterEach(async () => {
  await delivery?.stop();
  delivery = null;
  await letters?.close();
  letters = null;
  await journal?.close();
  journal = null;
  await receiver?.close();
  receiver = null;
  await rm(dir, { recursive: true, force: true });
});

interface Faults {
  /** Decides per call (1-based) whether the call fails. */
  readAfter?: (call: number) => boolean;
  save?: (call: number) => boolean;
  deadLetter?: (call: number) => boolean;
}

async function start(faults: Faults): Promise<{ rx: WebhookReceiver; registry: promClient.Registry }> {
  dir = await mkdtemp(join(tmpdir(), "dialgate-webhook-loop-"));
  journal = await openCdrJournal({ file: join(dir, "cdr.jsonl") });
  const real = journal;
  const rx = await WebhookReceiver.start();
  receiver = rx;
  const counts = { readAfter: 0, save: 0, deadLetter: 0 };
  const log: CdrLogReader = {
    readAfter: (after, limit, filter) =>
      faults.readAfter?.(++counts.readAfter)
        ? Promise.reject(outage())
        : real.readAfter(after, limit, filter),
    isValidPosition: (p) => real.isValidPosition(p),
    findById: (id) => real.findById(id),
  };
  const files = new FilePositionStore(dir);
  const positions: DeliveryPositionStore = {
    load: (c) => files.load(c),
    save: (c, p) => (faults.save?.(++counts.save) ? Promise.reject(outage()) : files.save(c, p)),
  };
  const fileLetters = await FileDeadLetterStore.open(dir);
  letters = fileLetters;
  const deadLetters: DeadLetterStore = {
    add: (l, body) =>
      faults.deadLetter?.(++counts.deadLetter) ? Promise.reject(outage()) : fileLetters.add(l, body),
    list: (c) => fileLetters.list(c),
    count: (c) => fileLetters.count(c),
    close: () => Promise.resolve(),
  };
  const registry = new promClient.Registry();
  delivery = createWebhookDelivery({
    carriers: [
      carrierSchema.parse({
        id: "fabrikam",
        name: "Fabrikam",
        cdrWebhook: { url: rx.url, secretEnv: "FABRIKAM_WEBHOOK_SECRET" },
      }),
    ],
    env: { FABRIKAM_WEBHOOK_SECRET: SECRET },
    log,
    positions,
    deadLetters,
    clock: systemClock,
    random: Math.random,
    logger: silentLogger(),
    settings: FAST,
    metrics: registry,
  });
  return { rx, registry };
}

async function append(n: number): Promise<CallRecord[]> {
  const out: CallRecord[] = [];
  for (let i = 0; i < n; i++) {
    const record = cdr(["fabrikam"]);
    await journal?.append({ kind: "cdr", record });
    out.push(record);
  }
  return out;
}

function expectSigned(rx: WebhookReceiver): void {
  const now = Math.floor(Date.now() / 1000);
  for (const r of rx.requests)
    expect(verifySignature(r.headers["dialgate-signature"] as string, r.rawBody, SECRET, now).ok).toBe(true);
}

const loopErrors = async (registry: promClient.Registry) =>
  (await registry.getSingleMetric("dialgate_webhook_delivery_errors_total")?.get())?.values.find(
    (v) => v.labels.carrier === "fabrikam",
  )?.value ?? 0;

const ids = (rs: readonly CallRecord[]) => rs.map((r) => r.id);

describe("the webhook delivery loop after a store error", () => {
  it("goes on after the CDR log failed once: every record delivered, the failure counted", async () => {
    const { rx, registry } = await start({ readAfter: (n) => n === 1 });
    const records = await append(5);
    delivery?.start();
    await waitFor(() => rx.acknowledgedIds().length >= 5, 20_000, "every record after the failed read");
    expect(rx.acknowledgedIds()).toEqual(ids(records));
    expectSigned(rx);
    expect(await loopErrors(registry)).toBe(1);
    expect(delivery?.readiness()).toEqual({ ok: true });
    // Still running: a record committed later is delivered too.
    const later = await append(1);
    await waitFor(() => rx.acknowledgedIds().includes(later[0]?.id ?? ""), 20_000, "a later record");
  });

  it("sends a batch again when its position could not be saved: nothing skipped", async () => {
    const { rx, registry } = await start({ save: (n) => n === 1 });
    const records = await append(5);
    delivery?.start();
    await waitFor(() => new Set(rx.acknowledgedIds()).size === 5, 20_000, "every record");
    const [a, b, c, d, e] = ids(records);
    // The first batch was acknowledged, but its position not saved: it goes again (at-least-once).
    expect(rx.acknowledgedIds()).toEqual([a, b, c, a, b, c, d, e]);
    expect(await loopErrors(registry)).toBe(1);
  });

  it("retries a batch whose dead letter could not be written, then dead-letters it and goes on", async () => {
    const { rx, registry } = await start({ deadLetter: (n) => n === 1 });
    rx.behaviour = (n) => (n < 2 ? 400 : 200);
    const refused = await append(1);
    delivery?.start();
    await waitFor(async () => ((await letters?.count("fabrikam")) ?? 0) === 1, 20_000, "the dead letter");
    expect((await letters?.list("fabrikam"))?.[0]?.recordIds).toEqual(ids(refused));
    const next = await append(2);
    await waitFor(() => rx.acknowledgedIds().length === 2, 20_000, "the records after it");
    expect(rx.acknowledgedIds()).toEqual(ids(next));
    expect(await loopErrors(registry)).toBe(1);
  });

  it("is degraded on /readyz while turns keep failing, and ready again once one succeeds", async () => {
    let down = true;
    const { rx, registry } = await start({ readAfter: () => down });
    const records = await append(4);
    delivery?.start();
    await waitFor(() => delivery?.readiness().ok === false, 20_000, "a degraded delivery loop");
    const status = delivery?.readiness();
    expect(status?.detail).toMatch(
      /^carrier fabrikam: failing for \d+ s \(\d+ tries in a row\): Stream isn't writeable/,
    );
    expect(rx.requests).toEqual([]);
    down = false;
    await waitFor(() => rx.acknowledgedIds().length === 4, 20_000, "delivery after the outage");
    expect(rx.acknowledgedIds()).toEqual(ids(records));
    expect(delivery?.readiness()).toEqual({ ok: true });
    expect(await loopErrors(registry)).toBeGreaterThanOrEqual(3);
  });
});
