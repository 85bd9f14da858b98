// Getting every CDR and amendment into the CDR log, whatever the log does. `CdrSink.append`
// resolves only once an entry is durable and rejects when it cannot be made durable (full disk,
// Redis down): the writer keeps the entry, logs loudly, counts it, and tries again with
// exponential backoff, in order, until it is in. Nothing is ever dropped here: at shutdown,
// whatever still cannot be written after the flush deadline is logged in full (error level, one
// line per entry) so an operator can replay it from the logs.
import type { Logger } from "../util/logger.js";
import type { CdrLogEntry } from "./call-record.js";
import type { CdrSink } from "./cdr-log.js";

/** A one-shot timer port (structurally the SIP edge's TimerService: tests drive it by hand). */
export interface Scheduler {
  set(delayMs: number, callback: () => void): { readonly id: number };
  clear(handle: { readonly id: number } | null): void;
}

export interface RetryPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/** 100 ms, doubling up to 30 s: quick when a hiccup passes, gentle on a disk that stays full. */
export const DEFAULT_RETRY: RetryPolicy = { initialDelayMs: 100, maxDelayMs: 30_000 };

export interface CdrWriterStats {
  /** Entries durably appended. */
  readonly written: number;
  /** Appends that were rejected (each retry counts). */
  readonly appendFailures: number;
  /** Entries waiting to be written (in flight or waiting for a retry). */
  readonly pending: number;
}

export class CdrWriter {
  /** Entries waiting for the log to come back (only while failing). */
  private readonly queue: CdrLogEntry[] = [];
  /** Entries handed to the sink and not yet settled (the sink may batch them). */
  private readonly sending = new Set<CdrLogEntry>();
  private retryTimer: { readonly id: number } | null = null;
  /** While failing, one entry at a time probes the log, so a broken log is not hammered. */
  private probe: CdrLogEntry | null = null;
  private failing = false;
  private delayMs: number;
  private written = 0;
  private failures = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly durableWaiters = new Map<CdrLogEntry, () => void>();

  constructor(
    private readonly sink: CdrSink,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly onWritten: (entry: CdrLogEntry, position: string) => void = () => {},
  ) {
    this.delayMs = retry.initialDelayMs;
  }

  get stats(): CdrWriterStats {
    return {
      written: this.written,
      appendFailures: this.failures,
      pending: this.queue.length + this.sending.size,
    };
  }

  /**
   * Queues an entry; it is appended at once unless the log is failing (then after it recovers).
   * `onDurable` is called once the entry is durable (never for a failure: a failing log is
   * retried, not reported). A callback rather than a promise: one fewer object per call.
   */
  write(entry: CdrLogEntry, onDurable?: () => void): void {
    if (onDurable !== undefined) this.durableWaiters.set(entry, onDurable);
    if (this.failing) this.queue.push(entry);
    else this.send(entry);
  }

  /**
   * Resolves true once nothing is pending, or false after `timeoutMs` (entries still pending are
   * kept and still retried).
   */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.isIdle()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  /** Stops retrying; every entry not yet durable is logged in full (the last resort). */
  abandon(): void {
    this.scheduler.clear(this.retryTimer);
    this.retryTimer = null;
    const left = [...this.sending, ...this.queue.splice(0)];
    this.durableWaiters.clear();
    for (const entry of left) {
      this.logger.error(
        { cdrEntry: entry },
        "CDR not written to the CDR log before shutdown: logged here in full for replay",
      );
    }
  }

  private send(entry: CdrLogEntry): void {
    this.sending.add(entry);
    let appended: Promise<string>;
    try {
      appended = this.sink.append(entry);
    } catch (err) {
      appended = Promise.reject(err);
    }
    appended.then(
      (position) => this.succeeded(entry, position),
      (err: unknown) => this.failed(entry, err),
    );
  }

  private succeeded(entry: CdrLogEntry, position: string): void {
    this.sending.delete(entry);
    this.written++;
    const onDurable = this.durableWaiters.get(entry);
    if (onDurable !== undefined) {
      this.durableWaiters.delete(entry);
      onDurable();
    }
    if (entry === this.probe) {
      // The probe went through: the log is back; send what waited.
      this.probe = null;
      this.failing = false;
      this.delayMs = this.retry.initialDelayMs;
      this.logger.warn({ waiting: this.queue.length }, "CDR log accepts appends again");
      for (const e of this.queue.splice(0)) this.send(e);
    }
    try {
      this.onWritten(entry, position);
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, "CDR written-hook failed");
    }
    this.checkIdle();
  }

  private failed(entry: CdrLogEntry, err: unknown): void {
    this.sending.delete(entry);
    this.failures++;
    if (entry === this.probe) this.probe = null;
    this.queue.unshift(entry);
    this.failing = true;
    this.logger.error(
      {
        err: err instanceof Error ? err.message : String(err),
        pending: this.queue.length + this.sending.size,
        retryInMs: this.delayMs,
        kind: entry.kind,
        id: entry.kind === "cdr" ? entry.record.id : entry.amendment.cdrId,
      },
      "CDR append failed: keeping the record and retrying",
    );
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null || this.probe !== null) return;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.retry.maxDelayMs, this.delayMs * 2);
    this.retryTimer = this.scheduler.set(delay, () => {
      this.retryTimer = null;
      const next = this.queue.shift();
      if (next === undefined) return;
      this.probe = next;
      this.send(next);
    });
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.sending.size === 0;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
