// Webhook push against a real HTTP receiver on loopback: signed batches bounded in size, retries
// with backoff on 5xx and timeouts, the dead-letter list (API and metric), 4xx, isolation, the
// start-up error for a missing secret, a receiver that refuses connections at first, and resuming
// after a restart in the middle of a delivery.
import { afterEach, describe, expect, it } from "vitest";
import type { CallRecord } from "../../src/calls/call-record.js";
import { verifySignature } from "../../src/delivery/webhook/signature.js";
import type { WebhookSettings } from "../../src/delivery/webhook/webhook-worker.js";
import {
  cdr,
  FABRIKAM_KEY,
  type Harness,
  NORTHWIND_KEY,
  startHarness,
} from "../api/support/carrier-harness.js";
import { amendmentEntry, quality } from "../store/support/cdr-fixtures.js";
import { freeTcpPort, waitFor } from "../support/free-port.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";

const SECRET = "whsec-test-0123456789";
const FAST: Partial<WebhookSettings> = {
  maxBatchRecords: 3,
  maxBatchDelayMs: 30,
  pollIntervalMs: 10,
  maxAttempts: 4,
  backoff: { baseMs: 10, maxMs: 40 },
  timeoutMs: 2_000,
};

let receiver: WebhookReceiver | null = null;
let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
  await receiver?.close();
  receiver = null;
});

async function start(
  settings: Partial<WebhookSettings> = FAST,
  dir?: string,
): Promise<{ h: Harness; rx: WebhookReceiver }> {
  const rx = receiver ?? (await WebhookReceiver.start());
  receiver = rx;
  h = await startHarness({
    ...(dir ? { dir } : {}),
    patch: (b) => ({
      ...b,
      carriers: (b.carriers as Record<string, unknown>[]).map((c) =>
        c.id === "fabrikam" ? { ...c, cdrWebhook: { url: rx.url, secretEnv: "FABRIKAM_WEBHOOK_SECRET" } } : c,
      ),
    }),
    deps: { env: { FABRIKAM_WEBHOOK_SECRET: SECRET }, webhook: settings },
  });
  return { h, rx };
}

function expectAllSigned(rx: WebhookReceiver): void {
  const now = Math.floor(Date.now() / 1000);
  for (const r of rx.requests) {
    expect(r.method).toBe("POST");
    expect(r.headers["content-type"]).toMatch(/^application\/json/);
    const check = verifySignature(r.headers["dialgate-signature"] as string, r.rawBody, SECRET, now);
    expect(check, r.headers["dialgate-signature"] as string).toEqual({
      ok: true,
      timestamp: expect.any(Number),
    });
    // Signed with the wrong secret, it would not verify.
    expect(verifySignature(r.headers["dialgate-signature"] as string, r.rawBody, "other", now).ok).toBe(
      false,
    );
  }
}

const idsOf = (rs: readonly CallRecord[]) => rs.map((r) => r.id);

describe("webhook push", () => {
  it("delivers the carrier's records in signed batches, retrying 5xx and timeouts until a 2xx", async () => {
    const { h, rx } = await start();
    // 1st try 503, 2nd hangs past the timeout, 3rd 500, then accept.
    rx.behaviour = (n) => (n === 0 ? 503 : n === 1 ? "hang" : n === 2 ? 500 : 200);
    const mine: CallRecord[] = [];
    for (let i = 0; i < 7; i++) {
      mine.push(await h.append(cdr(["fabrikam"])));
      await h.append(cdr(["northwind"]));
    }
    await waitFor(
      () => new Set(rx.acknowledgedIds()).size === 7,
      30_000,
      "all fabrikam records acknowledged",
    );
    expectAllSigned(rx);
    expect(rx.requests.slice(0, 3).map((r) => r.status)).toEqual([503, null, 500]);
    // The retried batch is byte-identical each time (only the signature's timestamp may differ).
    expect(new Set(rx.requests.slice(0, 4).map((r) => r.rawBody)).size).toBe(1);
    for (const r of rx.requests) {
      const body = JSON.parse(r.rawBody) as { records: Record<string, unknown>[] };
      expect(body.records.length).toBeGreaterThan(0);
      expect(body.records.length).toBeLessThanOrEqual(3);
      for (const rec of body.records) expect(rec).not.toHaveProperty("carrierIds");
    }
    expect(rx.acknowledgedIds()).toEqual(idsOf(mine));
    const metrics = await (await fetch(h.url("/metrics"))).text();
    expect(metrics).toMatch(/dialgate_webhook_records_delivered_total\{carrier="fabrikam"\} 7/);
    expect(metrics).toMatch(/dialgate_webhook_batches_total\{carrier="fabrikam",outcome="retried"\} 3/);
  });

  it("retries while the receiver refuses connections, then delivers every record once it listens", async () => {
    // Nothing listens on the port yet: every try is a refused connection.
    const port = await freeTcpPort();
    h = await startHarness({
      patch: (b) => ({
        ...b,
        carriers: (b.carriers as Record<string, unknown>[]).map((c) =>
          c.id === "fabrikam"
            ? {
                ...c,
                cdrWebhook: { url: `http://127.0.0.1:${port}/cdr`, secretEnv: "FABRIKAM_WEBHOOK_SECRET" },
              }
            : c,
        ),
      }),
      deps: {
        env: { FABRIKAM_WEBHOOK_SECRET: SECRET },
        webhook: { ...FAST, maxAttempts: 1_000, backoff: { baseMs: 20, maxMs: 60 } },
      },
    });
    const harness = h;
    const mine: CallRecord[] = [];
    for (let i = 0; i < 5; i++) {
      mine.push(await harness.append(cdr(["fabrikam"])));
      await harness.append(cdr(["northwind"]));
    }
    const retried = async () => {
      const text = await (await fetch(harness.url("/metrics"))).text();
      return Number(
        /dialgate_webhook_batches_total\{carrier="fabrikam",outcome="retried"\} (\d+)/.exec(text)?.[1] ?? 0,
      );
    };
    await waitFor(async () => (await retried()) >= 3, 30_000, "tries against the closed port");
    const rx = await WebhookReceiver.start(port);
    receiver = rx;
    await waitFor(() => rx.acknowledgedIds().length === 5, 30_000, "every record once the receiver listens");
    // The receiver saw nothing before it listened: each record exactly once, in commit order.
    expect(rx.acknowledgedIds()).toEqual(idsOf(mine));
    expectAllSigned(rx);
    const letters = (await harness.call("/v1/carrier/webhook/dead-letters", FABRIKAM_KEY)).json() as {
      deadLetters: unknown[];
    };
    expect(letters.deadLetters).toEqual([]);
  });

  it("moves a batch to the dead-letter list after the last try, shows it in the API and metrics, and goes on", async () => {
    const { h, rx } = await start();
    rx.behaviour = () => 502;
    const doomed = [await h.append(cdr(["fabrikam"])), await h.append(cdr(["fabrikam"]))];
    await waitFor(
      async () => {
        const r = await h.call("/v1/carrier/webhook/dead-letters", FABRIKAM_KEY);
        return (r.json() as { deadLetters: unknown[] }).deadLetters.length === 1;
      },
      30_000,
      "a dead letter",
    );
    expect(rx.requests.length).toBe(4);
    const letters = (await h.call("/v1/carrier/webhook/dead-letters", FABRIKAM_KEY)).json() as {
      deadLetters: { recordIds: string[]; attempts: number; lastError: string; url: string }[];
    };
    expect(letters.deadLetters[0]).toMatchObject({
      recordIds: idsOf(doomed),
      attempts: 4,
      lastError: "HTTP 502",
      url: rx.url,
    });
    const theirs = (await h.call("/v1/carrier/webhook/dead-letters", NORTHWIND_KEY)).json() as {
      deadLetters: unknown[];
    };
    expect(theirs.deadLetters).toEqual([]);
    const metrics = await (await fetch(h.url("/metrics"))).text();
    expect(metrics).toMatch(/dialgate_webhook_dead_letters\{carrier="fabrikam"\} 1/);
    expect(metrics).toMatch(/dialgate_webhook_batches_total\{carrier="fabrikam",outcome="dead_lettered"\} 1/);
    // The receiver recovers: later records flow, the dead-lettered ones are not resent.
    rx.behaviour = () => 200;
    const later = await h.append(cdr(["fabrikam"]));
    await waitFor(() => rx.acknowledgedIds().includes(later.id), 30_000, "the next record");
    expect(rx.acknowledgedIds()).toEqual([later.id]);
    // The dead letter survives a restart.
    await h.restart();
    const after = (await h.call("/v1/carrier/webhook/dead-letters", FABRIKAM_KEY)).json() as {
      deadLetters: unknown[];
    };
    expect(after.deadLetters.length).toBe(1);
  });

  it("dead-letters at once on a 4xx other than 408/429 (the receiver refused these bytes)", async () => {
    const { h, rx } = await start();
    rx.behaviour = (n) => (n === 0 ? 400 : 200);
    const refused = await h.append(cdr(["fabrikam"]));
    await waitFor(
      async () => {
        const r = await h.call("/v1/carrier/webhook/dead-letters", FABRIKAM_KEY);
        return (r.json() as { deadLetters: unknown[] }).deadLetters.length === 1;
      },
      30_000,
      "a dead letter",
    );
    const letters = (await h.call("/v1/carrier/webhook/dead-letters", FABRIKAM_KEY)).json() as {
      deadLetters: { recordIds: string[]; attempts: number }[];
    };
    expect(letters.deadLetters[0]).toMatchObject({ recordIds: [refused.id], attempts: 1 });
  });

  it("resumes after a restart in the middle of a delivery: the batch in flight is sent again, nothing is lost", async () => {
    const first = await start({ ...FAST, maxBatchRecords: 2, timeoutMs: 60_000 });
    const rx = first.rx;
    const dir = first.h.dir;
    rx.behaviour = () => 200;
    const early = [await first.h.append(cdr(["fabrikam"])), await first.h.append(cdr(["fabrikam"]))];
    await waitFor(() => rx.acknowledgedIds().length === 2, 30_000, "the first batch");
    // The next batch hangs at the receiver: dialgate stops while it is in flight.
    rx.behaviour = () => "hang";
    const inFlight = [await first.h.append(cdr(["fabrikam"])), await first.h.append(cdr(["fabrikam"]))];
    await waitFor(() => rx.requests.length === 2, 30_000, "the second batch in flight");
    await first.h.dialgate.stop();
    h = null;
    // More records arrive while dialgate is down (the journal is the same directory).
    rx.behaviour = () => 200;
    const restarted = await start({ ...FAST, maxBatchRecords: 2 }, dir);
    const late = [await restarted.h.append(cdr(["fabrikam"]))];
    await waitFor(
      () => rx.acknowledgedIds().includes(late[0]?.id as string),
      30_000,
      "records after the restart",
    );
    const acked = rx.acknowledgedIds();
    // Every record acknowledged, each exactly once here: the unacknowledged batch again, the
    // acknowledged one not again.
    expect(acked).toEqual(idsOf([...early, ...inFlight, ...late]));
    expectAllSigned(rx);
  });

  it("merges a late quality report into its record when both are in the same batch (one record, revision 2)", async () => {
    // Batches close only when full: the record, its amendment and the next record are read into
    // one batch however the worker's reads fall.
    const { h, rx } = await start({ ...FAST, maxBatchRecords: 2, maxBatchDelayMs: 60_000 });
    rx.behaviour = () => 200;
    const withReport = await h.append(cdr(["fabrikam"]));
    await h.dialgate.cdrLog.append(amendmentEntry(withReport, quality("alice@contoso.com", 4.4)));
    const next = await h.append(cdr(["fabrikam"]));
    await waitFor(() => rx.requests.length >= 1, 30_000, "the batch");
    const body = JSON.parse(rx.requests[0]?.rawBody as string) as { records: CallRecord[] };
    expect(body.records.map((r) => r.id)).toEqual([withReport.id, next.id]);
    expect(body.records[0]?.revision).toBe(2);
    expect(body.records[0]?.quality?.caller?.mosLq).toBe(4.4);
    expectAllSigned(rx);
  });

  it("refuses to start when the secret variable is missing, naming the carrier and the variable", async () => {
    const rx = await WebhookReceiver.start();
    receiver = rx;
    await expect(
      startHarness({
        patch: (b) => ({
          ...b,
          carriers: (b.carriers as Record<string, unknown>[]).map((c) =>
            c.id === "fabrikam" ? { ...c, cdrWebhook: { url: rx.url, secretEnv: "NOT_SET_ANYWHERE" } } : c,
          ),
        }),
        deps: { env: {} },
      }),
    ).rejects.toThrow(
      /carriers\[id=fabrikam\]\.cdrWebhook\.secretEnv: environment variable NOT_SET_ANYWHERE is not set/,
    );
  });
});
