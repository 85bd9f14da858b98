// Pushes one carrier's CDRs to its `cdrWebhook` (carrier-api.md "Durable delivery"): reads the
// CDR log from the durable delivery position, batches the records the carrier may see (at most
// `maxBatchRecords`, and no record waits more than `maxBatchDelayMs` once it is read), POSTs
// `{"records": [...]}` signed per the wire contract, retries network errors, timeouts, 5xx, 408
// and 429 with exponential backoff and jitter, and after `maxAttempts` tries (or at once on any
// other 4xx: the receiver refused these bytes) moves the batch to the dead-letter list. The
// position advances only after a 2xx or a dead letter, so a restart resends what was in flight:
// at-least-once, each record with its `id` for the carrier to de-duplicate. A turn that fails on
// the CDR log or the delivery state (a Redis blip) is retried from the saved position after a
// bounded backoff (delivery-loop-health.ts): delivery never stops on an error.

import type { CallRecord } from "../../calls/call-record.js";
import { CarrierWindow, carrierView } from "../../calls/carrier-feed.js";
import type { CdrLogReader } from "../../calls/cdr-log.js";
import type { Clock, RandomSource } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import { type BackoffPolicy, retryDelayMs } from "./backoff.js";
import { DeliveryLoopHealth, type DeliveryLoopStatus } from "./delivery-loop-health.js";
import type { DeadLetterStore, DeliveryLease, DeliveryPositionStore } from "./delivery-state.js";
import { SIGNATURE_HEADER, signatureHeader } from "./signature.js";

export interface WebhookSettings {
  readonly maxBatchRecords: number;
  readonly maxBatchDelayMs: number;
  /** How often the log is polled when caught up. */
  readonly pollIntervalMs: number;
  readonly maxAttempts: number;
  readonly backoff: BackoffPolicy;
  /** Per attempt: connect + response headers. */
  readonly timeoutMs: number;
  /** The wait after a turn failed on the CDR log or the delivery state, before starting again. */
  readonly loopBackoff: BackoffPolicy;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  maxBatchRecords: 100,
  maxBatchDelayMs: 1_000,
  pollIntervalMs: 250,
  maxAttempts: 8,
  backoff: { baseMs: 1_000, maxMs: 300_000 },
  timeoutMs: 10_000,
  loopBackoff: { baseMs: 500, maxMs: 30_000 },
};

export type PostOutcome =
  | { readonly kind: "response"; readonly status: number; readonly retryAfterSeconds: number | null }
  | { readonly kind: "network"; readonly error: string }
  | { readonly kind: "timeout" };

/** Sends one request; never throws (a failure is an outcome). */
export type WebhookPoster = (
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
  signal: AbortSignal,
) => Promise<PostOutcome>;

export const fetchPoster: WebhookPoster = async (url, body, headers, timeoutMs, signal) => {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, {
      method: "POST",
      body,
      headers,
      signal: AbortSignal.any([signal, timeout]),
      redirect: "manual",
    });
    await res.body?.cancel().catch(() => undefined);
    const ra = res.headers.get("retry-after");
    const retryAfterSeconds = ra !== null && /^\d{1,6}$/.test(ra) ? Number(ra) : null;
    return { kind: "response", status: res.status, retryAfterSeconds };
  } catch (err) {
    if (timeout.aborted) return { kind: "timeout" };
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { kind: "network", error: cause?.code ?? cause?.message ?? (err as Error).message };
  }
};

export interface WebhookMetrics {
  delivered(carrierId: string, records: number): void;
  retried(carrierId: string): void;
  deadLettered(carrierId: string, records: number): void;
  /** A delivery turn failed on the CDR log or the delivery state (retried after a backoff). */
  loopFailed(carrierId: string): void;
}

export interface WebhookWorkerOptions {
  readonly carrierId: string;
  readonly url: string;
  readonly secret: string;
  readonly log: CdrLogReader;
  readonly positions: DeliveryPositionStore;
  /** Several instances on one CDR stream: only the lease holder delivers (absent: always). */
  readonly lease?: DeliveryLease;
  readonly deadLetters: DeadLetterStore;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly settings: WebhookSettings;
  readonly logger: Logger;
  readonly poster?: WebhookPoster;
  readonly metrics?: WebhookMetrics;
}

const READ_BATCH = 500;
/** How often an instance without a carrier's lease looks whether it lapsed. */
const LEASE_RETRY_MS = 1_000;

export class WebhookWorker {
  private readonly stopController = new AbortController();
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly log: Logger;
  private readonly health = new DeliveryLoopHealth();

  constructor(private readonly o: WebhookWorkerOptions) {
    this.log = o.logger.child({ component: "webhook", carrier: o.carrierId });
  }

  start(): void {
    if (this.running !== null) return;
    this.running = this.run().catch((err: unknown) => {
      // run() catches every failure of a turn; reaching this is a bug, said loudly.
      this.log.error({ err: (err as Error).message }, "webhook delivery stopped on an error");
    });
  }

  get carrierId(): string {
    return this.o.carrierId;
  }

  /** For /readyz: degraded while turns keep failing. */
  status(): DeliveryLoopStatus {
    return this.health.status(this.o.clock.now());
  }

  /** Stops after aborting what is in flight; an unacknowledged batch is resent after a restart. */
  async stop(): Promise<void> {
    this.stopController.abort();
    this.wake?.();
    await this.running;
  }

  private get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    const lease = this.o.lease;
    if (lease === undefined) return this.deliverDespiteErrors(() => Promise.resolve(true));
    const holding = async () => {
      try {
        const held = await lease.hold(this.o.carrierId);
        // Another instance delivers: nothing of this instance's is failing.
        if (!held) this.turnSucceeded();
        return held;
      } catch (err) {
        // Delivery is stalled as surely as by a failed read; retried after LEASE_RETRY_MS.
        this.turnFailed(err, "webhook lease unavailable; delivery paused", LEASE_RETRY_MS);
        return false;
      }
    };
    while (!this.stopping) {
      // Another instance delivers while it holds the lease; look again a little later.
      if (await holding()) await this.deliverDespiteErrors(holding);
      if (!this.stopping) await this.sleep(LEASE_RETRY_MS);
    }
    await lease.release(this.o.carrierId).catch(() => undefined);
  }

  /**
   * deliverAll, started again from the saved position whenever a turn throws: the batch being
   * gathered is dropped and read again (nothing skipped; what was sent but not recorded as sent
   * goes again), after a backoff with jitter so a fleet does not hammer a recovering store.
   */
  private async deliverDespiteErrors(holding: () => Promise<boolean>): Promise<void> {
    while (!this.stopping) {
      try {
        await this.deliverAll(holding);
        return; // stopping, or the lease is lost
      } catch (err) {
        if (this.stopping) return;
        await this.sleep(
          this.turnFailed(err, "webhook delivery turn failed; starting again from the saved position"),
        );
      }
    }
  }

  /** Logs and counts a failed turn; returns the backoff before the next one (or `retryInMs`). */
  private turnFailed(err: unknown, message: string, retryInMs?: number): number {
    const error = err instanceof Error ? err.message : String(err);
    this.health.failed(error, this.o.clock.now());
    const delay =
      retryInMs ?? retryDelayMs(this.health.consecutiveFailures, this.o.settings.loopBackoff, this.o.random);
    this.o.metrics?.loopFailed(this.o.carrierId);
    this.log.warn({ err: error, failures: this.health.consecutiveFailures, retryInMs: delay }, message);
    return delay;
  }

  private turnSucceeded(): void {
    const ended = this.health.succeeded();
    if (ended > 0) this.log.info({ failures: ended }, "webhook delivery recovered");
  }

  /** Delivers from the saved position while `holding()` says so (checked once per turn). */
  private async deliverAll(holding: () => Promise<boolean>): Promise<void> {
    const { log: cdrLog, carrierId, settings } = this.o;
    let saved = await this.o.positions.load(carrierId);
    if (saved !== null && !cdrLog.isValidPosition(saved)) {
      this.log.warn(
        { position: saved },
        "the saved webhook position is no longer in the CDR log; starting from the oldest record",
      );
      saved = null;
    }
    let readPos = saved;
    const range = { from: null, to: null };
    // The batch being gathered: a late quality report for a record still in it is merged into
    // that record rather than sending the record twice in one batch (carrier-feed.ts).
    let pending = new CarrierWindow(cdrLog, carrierId, range);
    let pendingSince = 0;
    while (!this.stopping) {
      if (!(await holding())) return; // lost the lease: the holder goes on from the shared position
      let caughtUp = false;
      if (pending.size < settings.maxBatchRecords) {
        const batch = await cdrLog.readAfter(readPos, READ_BATCH);
        let processed = 0;
        for (const committed of batch) {
          const before = pending.size;
          const outcome = await pending.offer(committed, pending.size < settings.maxBatchRecords);
          if (outcome === "full") break;
          if (before === 0 && pending.size > 0) pendingSince = this.o.clock.monotonic();
          readPos = committed.position;
          processed++;
        }
        caughtUp = processed === batch.length && batch.length < READ_BATCH;
      }
      const due =
        pending.size >= settings.maxBatchRecords ||
        (pending.size > 0 && this.o.clock.monotonic() - pendingSince >= settings.maxBatchDelayMs);
      if (due) {
        const done = await this.deliver(pending.records());
        if (!done) return; // stopping: the batch stays unacknowledged
        pending = new CarrierWindow(cdrLog, carrierId, range);
        if (readPos !== null) await this.o.positions.save(carrierId, readPos);
        saved = readPos;
        this.turnSucceeded();
        continue;
      }
      if (pending.size === 0 && readPos !== null && readPos !== saved) {
        // Only records the carrier cannot see were read: remember that, so a restart skips them.
        await this.o.positions.save(carrierId, readPos);
        saved = readPos;
      }
      this.turnSucceeded();
      if (caughtUp) {
        const waitMs =
          pending.size > 0
            ? Math.max(
                1,
                Math.min(
                  settings.pollIntervalMs,
                  pendingSince + settings.maxBatchDelayMs - this.o.clock.monotonic(),
                ),
              )
            : settings.pollIntervalMs;
        await this.sleep(waitMs);
      }
    }
  }

  /** True when the batch was acknowledged or dead-lettered; false when stopping cut it short. */
  private async deliver(records: readonly CallRecord[]): Promise<boolean> {
    const { settings, carrierId, url } = this.o;
    const body = JSON.stringify({ records: records.map(carrierView) });
    const poster = this.o.poster ?? fetchPoster;
    let lastError = "";
    let attempt = 0;
    while (attempt < settings.maxAttempts) {
      if (this.stopping) return false;
      attempt++;
      // A fresh timestamp per try: receivers reject signatures older than 5 minutes.
      const t = Math.floor(this.o.clock.now() / 1000);
      const outcome = await poster(
        url,
        body,
        {
          "content-type": "application/json; charset=utf-8",
          [SIGNATURE_HEADER]: signatureHeader(this.o.secret, t, body),
          "user-agent": "dialgate-webhook/1",
        },
        settings.timeoutMs,
        this.stopController.signal,
      );
      if (this.stopping) return false;
      let retryAfterMs = 0;
      if (outcome.kind === "response") {
        if (outcome.status >= 200 && outcome.status < 300) {
          this.o.metrics?.delivered(carrierId, records.length);
          this.log.debug({ records: records.length, attempt }, "webhook batch delivered");
          return true;
        }
        lastError = `HTTP ${outcome.status}`;
        const retryable = outcome.status >= 500 || outcome.status === 408 || outcome.status === 429;
        if (!retryable) break;
        retryAfterMs = (outcome.retryAfterSeconds ?? 0) * 1000;
      } else {
        lastError =
          outcome.kind === "timeout" ? `timeout after ${settings.timeoutMs} ms` : `network: ${outcome.error}`;
      }
      if (attempt >= settings.maxAttempts) break;
      this.o.metrics?.retried(carrierId);
      const delay = Math.min(
        settings.backoff.maxMs,
        Math.max(retryAfterMs, retryDelayMs(attempt, settings.backoff, this.o.random)),
      );
      this.log.warn({ attempt, error: lastError, retryInMs: delay }, "webhook batch failed; retrying");
      await this.sleep(delay);
    }
    if (this.stopping) return false;
    const letter = await this.o.deadLetters.add(
      {
        carrierId,
        url,
        failedDateTime: new Date(this.o.clock.now()).toISOString(),
        attempts: attempt,
        lastError,
        recordIds: records.map((r) => r.id),
      },
      body,
    );
    this.o.metrics?.deadLettered(carrierId, records.length);
    this.log.error(
      { deadLetter: letter.id, attempts: attempt, error: lastError, records: records.length },
      "webhook batch moved to the dead-letter list",
    );
    return true;
  }
}
