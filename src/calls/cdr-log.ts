// The CDR log port (architecture.md "Ports"): where the call recorder commits records and where
// the carrier API, webhook delivery and `dialgate cdr tail` read them back. Two adapters
// implement it: the embedded journal (`cdr.file`, append-only JSON lines with group commit) and
// the Redis Stream sink (the Redis issue). Nothing outside an adapter knows how a position is
// spelled.
import type { CallRecord, CdrLogEntry } from "./call-record.js";

/** An entry with its position in commit order. */
export interface CommittedEntry {
  /** Opaque, totally ordered within one log; only the log that produced it can interpret it. */
  readonly position: string;
  readonly entry: CdrLogEntry;
}

export interface CdrSink {
  /**
   * Appends one entry. Resolves with its position only once it is durable (fsync'd, or
   * acknowledged by Redis); nothing may be told about a record before that. Rejects when the
   * entry cannot be made durable (the caller keeps it and retries or spools it).
   */
  append(entry: CdrLogEntry): Promise<string>;
}

export interface CdrReadFilter {
  /** Epoch ms bounds on `inviteDateTime` (from inclusive, to exclusive): lets the log skip segments. */
  readonly inviteFrom?: number;
  readonly inviteTo?: number;
}

export interface CdrLogReader {
  /**
   * Entries committed strictly after `after` (null: from the oldest retained), in commit order,
   * at most `limit`. Entries outside the filter may be skipped but need not be: callers filter
   * again. An empty result means nothing more is committed *now*.
   */
  readAfter(after: string | null, limit: number, filter?: CdrReadFilter): Promise<readonly CommittedEntry[]>;
  /** Whether `position` is one this log could have produced (forged or stale cursors are refused). */
  isValidPosition(position: string): boolean;
  /** The CDR with this id, with any quality amendments merged in; null when unknown. */
  findById(id: string): Promise<CallRecord | null>;
}

/** Whether the log can take writes now (for /readyz and metrics). */
export interface CdrLogHealth {
  readonly writable: boolean;
  /** Why not, in words an operator can act on (e.g. "ENOSPC writing var/cdr/000003.jsonl"). */
  readonly problem: string | null;
}

/** dialgate: one durable commit of one or more entries (metrics, followers). */
export interface CdrCommitInfo {
  readonly entries: number;
  readonly bytes: number;
  /** Milliseconds from the oldest entry's append() to it being durable. */
  readonly latencyMs: number;
  /** Position after the last entry of the commit. */
  readonly lastPosition: string;
}

export interface CdrLog extends CdrSink, CdrLogReader {
  health(): CdrLogHealth;
  /** Flushes what is pending (durably) and releases files/connections. */
  close(): Promise<void>;
  /**
   * dialgate: resolves true as soon as an entry is committed after `after` (null: any), false on
   * timeout, abort or close — for `cdr tail --follow` and webhook delivery (then readAfter).
   * Optional: a log without it is polled.
   */
  waitForCommit?(
    after: string | null,
    options?: { readonly timeoutMs?: number; readonly signal?: AbortSignal },
  ): Promise<boolean>;
  /** dialgate: calls `listener` after each durable commit; returns the unsubscribe function. */
  onCommit?(listener: (info: CdrCommitInfo) => void): () => void;
}
