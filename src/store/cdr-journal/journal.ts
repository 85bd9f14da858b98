// The embedded CDR log (`cdr.file`): append-only JSON lines with group commit, rotated by size
// into numbered segments (layout: segment-files.ts), with a per-segment index for paging.
//
// Durability. `append()` resolves only after the bytes of its entry were written and
// fdatasync'd. Commits are serialised: while one batch is being fsync'd, new entries queue,
// and the next batch takes all of them — so under load one fsync carries many entries
// ("natural" group commit, as PostgreSQL and MySQL do by default with commit_delay /
// binlog_group_commit_sync_delay = 0). `commitIntervalMs` (default 25) spaces the starts of two
// commits: on a disk whose fdatasync takes a millisecond or two, natural group commit alone
// fsyncs once per CDR up to several hundred calls/s, and those fsyncs (kernel time charged to
// the proxy) were most of the recorder's cost in `bench:load` (issue #12: 10-30 points of CPU at
// 500 calls/s on ext4, against 3-4 on tmpfs, where fsync is free). With the spacing, a busy
// proxy does at most 40 fsyncs/s and a quiet one commits at once, so an entry waits at most
// the interval plus two fsyncs (well inside the 50 ms budget). `commitDelayMs` adds an optional
// gathering window before a commit, and commits slower than `slowCommitMs` (default 50 ms, the
// latency budget for a CDR) are logged and counted.
//
// Faults. A write or fsync error (ENOSPC, EIO, EACCES...) rejects that batch's appends (their
// callers keep the entries and retry), truncates the segment back to its last durable byte, marks
// the journal not writable for /readyz, and is logged at error level. The next append tries
// again; the first commit that succeeds makes the journal writable again. Nothing is thrown at
// the SIP side: calls keep routing.
//
// Crash recovery. On open the active segment is scanned; bytes after its last newline are a
// torn write (never acknowledged): they are appended to `<segment>.torn`, the segment is
// truncated to its last complete line, and a warning is logged. A complete line that is not a
// valid entry (damaged medium, hand edits) is skipped by readers and counted, never fatal.
//
// Read-only mode (`dialgate cdr tail`, another process) never recovers, creates or truncates
// anything: it treats bytes after the last newline as a write in progress and polls for growth.
import { closeSync, openSync, readSync } from "node:fs";
import { appendFile, type FileHandle, mkdir, open, readdir, stat, truncate } from "node:fs/promises";
import { applyAmendments } from "../../calls/amend.js";
import type { CallRecord, CdrLogEntry, QualityAmendment } from "../../calls/call-record.js";
import type {
  CdrCommitInfo,
  CdrLog,
  CdrLogHealth,
  CdrReadFilter,
  CommittedEntry,
} from "../../calls/cdr-log.js";
import { type Clock, systemClock } from "../../util/clock.js";
import { type Logger, silentLogger } from "../../util/logger.js";
import { decodeEntry, encodeEntry, entryInviteTime } from "./entry-codec.js";
import { scanLines } from "./line-scanner.js";
import { formatPosition, parsePosition } from "./position.js";
import { type JournalLayout, journalLayout, segmentNumberOf, segmentPath } from "./segment-files.js";
import {
  emptySegment,
  loadIndex,
  mayOverlap,
  noteEntry,
  type SegmentMeta,
  saveIndex,
} from "./segment-index.js";
import { acquireWriterLock, releaseWriterLock } from "./writer-lock.js";

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_COMMIT_INTERVAL_MS = 25;
const OPEN_RETRY_MS = 5000;

export interface CdrJournalOptions {
  /** `cdr.file`: names the journal; segments and the index sit beside it. */
  readonly file: string;
  /** Rotate the active segment once it reaches this size (default 64 MiB). */
  readonly segmentBytes?: number;
  /** Extra time a commit waits to gather more entries (default 0: natural group commit). */
  readonly commitDelayMs?: number;
  /** Shortest time between the starts of two commits (default 10 ms; 0: back to back). */
  readonly commitIntervalMs?: number;
  /** A commit (write + fsync) slower than this is logged and counted (default 50). */
  readonly slowCommitMs?: number;
  /** A commit in flight for longer than this makes health() not writable (default 5000). */
  readonly stalledCommitMs?: number;
  /** Never write: no recovery, no creation; follow another process's writes by polling. */
  readonly readOnly?: boolean;
  /** Read-only mode: how often waitForCommit looks for new bytes (default 200 ms). */
  readonly pollIntervalMs?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/** One group commit (one fdatasync), for metrics and followers. */
export interface CommitInfo extends CdrCommitInfo {
  /** Monotonic ms spent in write + fdatasync. */
  readonly syncMs: number;
}

export interface CdrJournalStats {
  /** Entries made durable since open. */
  readonly entriesWritten: number;
  readonly bytesWritten: number;
  /** fdatasync calls that succeeded (one per group commit). */
  readonly fsyncs: number;
  readonly failedCommits: number;
  readonly slowCommits: number;
  readonly segmentsRotated: number;
  readonly tornTailsRecovered: number;
  readonly corruptLinesSkipped: number;
}

export class JournalError extends Error {
  constructor(
    readonly code: "closed" | "not_writable" | "read_only" | "invalid_position",
    message: string,
  ) {
    super(message);
    this.name = "JournalError";
  }
}

interface PendingAppend {
  /** The entry's line (entry-codec.ts), without its newline. */
  readonly line: string;
  /** The line's length in UTF-8 bytes with its newline: positions are byte offsets. */
  readonly bytes: number;
  readonly entry: CdrLogEntry;
  readonly enqueuedAt: number;
  readonly resolve: (position: string) => void;
  readonly reject: (err: Error) => void;
}

/**
 * The batch as the bytes to append: each line encoded straight into one buffer, then its newline
 * (no joined string: that would copy every line once more before encoding it).
 */
function batchBytes(batch: readonly PendingAppend[]): Buffer {
  let total = 0;
  for (const p of batch) total += p.bytes;
  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  for (const p of batch) {
    at += buf.write(p.line, at, "utf8");
    buf[at++] = 0x0a;
  }
  return buf;
}

export async function openCdrJournal(options: CdrJournalOptions): Promise<CdrJournal> {
  const journal = new CdrJournal(options);
  await journal.init();
  return journal;
}

export class CdrJournal implements CdrLog {
  readonly layout: JournalLayout;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly segmentBytes: number;
  private readonly commitDelayMs: number;
  private readonly commitIntervalMs: number;
  /** Monotonic start of the last commit (spacing), null before the first. */
  private lastCommitAt: number | null = null;
  private readonly slowCommitMs: number;
  private readonly stalledCommitMs: number;
  private readonly readOnly: boolean;
  private readonly pollIntervalMs: number;
  /** Holds the writer lock: the only mode that writes, recovers or trusts its own counters. */
  private writer = false;
  private lockProblem: string | null = null;
  private lastOpenAttempt: number | null = null;

  private segments: SegmentMeta[] = [];
  private handle: FileHandle | null = null;
  /** Bytes beyond the active segment's committed size may be on disk (a failed write). */
  private dirty = false;
  private pending: PendingAppend[] = [];
  private flushing: Promise<void> | null = null;
  private flushTimer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private commitStartedAt: number | null = null;
  private closed = false;
  private problem: string | null = null;
  private readonly commitListeners = new Set<(info: CommitInfo) => void>();
  private readonly waiters = new Set<() => void>();
  private counters = {
    entriesWritten: 0,
    bytesWritten: 0,
    fsyncs: 0,
    failedCommits: 0,
    slowCommits: 0,
    segmentsRotated: 0,
    tornTailsRecovered: 0,
    corruptLinesSkipped: 0,
  };

  /** Use openCdrJournal(). */
  constructor(options: CdrJournalOptions) {
    this.layout = journalLayout(options.file);
    this.log = (options.logger ?? silentLogger()).child({ component: "cdr-journal" });
    this.clock = options.clock ?? systemClock;
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.commitDelayMs = options.commitDelayMs ?? 0;
    this.commitIntervalMs = options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS;
    this.slowCommitMs = options.slowCommitMs ?? 50;
    this.stalledCommitMs = options.stalledCommitMs ?? 5000;
    this.readOnly = options.readOnly ?? false;
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
  }

  /** @internal opens or recovers the segments; never throws for an unwritable location. */
  async init(): Promise<void> {
    if (!this.readOnly) {
      try {
        await mkdir(this.layout.dir, { recursive: true });
      } catch (err) {
        this.fail(err, this.layout.dir, "cannot create the journal directory");
        return;
      }
      try {
        const lock = await acquireWriterLock(this.lockFile());
        if (lock.ok) this.writer = true;
        else {
          this.lockProblem = `the CDR journal ${this.layout.dir}/${this.layout.stem} is in use by ${lock.holder}`;
          this.log.error({ file: this.lockFile() }, `CDR journal NOT WRITABLE — ${this.lockProblem}`);
        }
      } catch (err) {
        this.fail(err, this.lockFile(), "cannot take the journal's writer lock");
        return;
      }
    }
    const numbers = await this.listSegmentNumbers();
    const index = await loadIndex(this.layout.indexFile);
    let indexStale = false;
    for (const [i, n] of numbers.entries()) {
      const last = i === numbers.length - 1;
      const known = index.get(n);
      const size = await fileSize(segmentPath(this.layout, n));
      if (!last && known !== undefined && known.bytes === size) {
        this.segments.push(known);
        continue;
      }
      const meta = await this.scanSegment(n, size);
      if (!last) {
        meta.sealed = true;
        indexStale = true;
      }
      this.segments.push(meta);
    }
    if (!this.writer) return;
    if (indexStale) await this.persistIndex();
    try {
      if (this.segments.length === 0) await this.createSegment(1);
      else await this.openActive();
    } catch (err) {
      this.fail(err, this.activePath(), "cannot open the active journal segment");
    }
  }

  // -------------------------------------------------------------------------------------------
  // CdrSink

  append(entry: CdrLogEntry): Promise<string> {
    if (this.closed) return Promise.reject(new JournalError("closed", "the CDR journal is closed"));
    if (this.readOnly)
      return Promise.reject(new JournalError("read_only", "the CDR journal was opened read-only"));
    const line = encodeEntry(entry);
    const bytes = Buffer.byteLength(line, "utf8") + 1;
    return new Promise<string>((resolve, reject) => {
      this.pending.push({ line, bytes, entry, enqueuedAt: this.clock.monotonic(), resolve, reject });
      this.scheduleFlush();
    });
  }

  // -------------------------------------------------------------------------------------------
  // CdrLogReader

  async readAfter(
    after: string | null,
    limit: number,
    filter: CdrReadFilter = {},
  ): Promise<readonly CommittedEntry[]> {
    if (limit <= 0) return [];
    if (!this.writer) await this.refresh();
    const start = after === null ? null : parsePosition(after);
    if (after !== null && (start === null || !this.isValidPosition(after)))
      throw new JournalError("invalid_position", `not a position of this journal: ${after}`);
    const out: CommittedEntry[] = [];
    for (const meta of [...this.segments]) {
      if (start !== null && meta.segment < start.segment) continue;
      const from = start !== null && meta.segment === start.segment ? start.offset : 0;
      const to = meta.bytes;
      if (from >= to || !mayOverlap(meta, filter.inviteFrom, filter.inviteTo)) continue;
      await scanLines(segmentPath(this.layout, meta.segment), from, to, (line, _s, end) => {
        const entry = decodeEntry(line);
        if (entry === null) {
          this.counters.corruptLinesSkipped += 1;
          return true;
        }
        const t = entryInviteTime(entry);
        if (t !== null && filter.inviteFrom !== undefined && t < filter.inviteFrom) return true;
        if (t !== null && filter.inviteTo !== undefined && t >= filter.inviteTo) return true;
        out.push({ position: formatPosition(meta.segment, end), entry });
        return out.length < limit;
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * The newest `limit` entries, oldest first (`dialgate cdr tail`). Reads segments from the
   * newest back, so its cost is the size of the segments it needs, not of the journal.
   */
  async readLast(limit: number): Promise<readonly CommittedEntry[]> {
    if (limit <= 0) return [];
    if (!this.writer) await this.refresh();
    const chunks: CommittedEntry[][] = [];
    let have = 0;
    for (const meta of [...this.segments].reverse()) {
      if (meta.count === 0) continue;
      const entries: CommittedEntry[] = [];
      await scanLines(segmentPath(this.layout, meta.segment), 0, meta.bytes, (line, _s, end) => {
        const entry = decodeEntry(line);
        if (entry !== null) entries.push({ position: formatPosition(meta.segment, end), entry });
        if (entries.length > limit) entries.shift();
        return true;
      });
      chunks.unshift(entries);
      have += entries.length;
      if (have >= limit) break;
    }
    return chunks.flat().slice(-limit);
  }

  isValidPosition(position: string): boolean {
    const p = parsePosition(position);
    if (p === null) return false;
    const meta = this.segments.find((s) => s.segment === p.segment);
    if (meta === undefined || p.offset > meta.bytes) return false;
    if (p.offset === 0) return true;
    // Positions are offsets just after an entry's newline: anything else was not produced here.
    try {
      const fd = openSync(segmentPath(this.layout, p.segment), "r");
      try {
        const b = Buffer.alloc(1);
        return readSync(fd, b, 0, 1, p.offset - 1) === 1 && b[0] === 0x0a;
      } finally {
        closeSync(fd);
      }
    } catch {
      return false;
    }
  }

  async findById(id: string): Promise<CallRecord | null> {
    if (!this.writer) await this.refresh();
    // Amendments always follow their record in commit order, so scanning from the newest
    // segment back to the record's collects every one of them on the way.
    const needle = Buffer.from(JSON.stringify(id), "utf8");
    const found: { record: CallRecord | null } = { record: null };
    const amendments: { position: string; amendment: QualityAmendment }[] = [];
    for (const meta of [...this.segments].reverse()) {
      if (meta.count === 0) continue;
      await scanLines(
        segmentPath(this.layout, meta.segment),
        0,
        meta.bytes,
        (line, _s, end) => {
          const entry = decodeEntry(line);
          if (entry?.kind === "cdr" && entry.record.id === id) found.record ??= entry.record;
          else if (entry?.kind === "quality" && entry.amendment.cdrId === id)
            amendments.push({ position: formatPosition(meta.segment, end), amendment: entry.amendment });
          return true;
        },
        needle,
      );
      if (found.record !== null) break;
    }
    if (found.record === null) return null;
    amendments.sort((a, b) => (a.position < b.position ? -1 : 1));
    return applyAmendments(
      found.record,
      amendments.map((a) => a.amendment),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Health, followers, shutdown

  health(): CdrLogHealth {
    if (this.readOnly) return { writable: false, problem: "opened read-only" };
    if (this.lockProblem !== null) return { writable: false, problem: this.lockProblem };
    if (this.closed) return { writable: false, problem: "the CDR journal is closed" };
    if (this.problem !== null) return { writable: false, problem: this.problem };
    if (this.commitStartedAt !== null) {
      const inFlight = this.clock.monotonic() - this.commitStartedAt;
      if (inFlight > this.stalledCommitMs)
        return {
          writable: false,
          problem: `a commit to ${this.activePath()} has been waiting for the disk for ${Math.round(inFlight)} ms`,
        };
    }
    return { writable: true, problem: null };
  }

  get stats(): CdrJournalStats {
    return { ...this.counters };
  }

  /** Position after the newest committed entry (null when the journal is empty). */
  lastPosition(): string | null {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const p = this.segments[i]?.lastPosition;
      if (p !== undefined && p !== null) return p;
    }
    return null;
  }

  /** Calls `listener` after each group commit; returns the unsubscribe function. */
  onCommit(listener: (info: CommitInfo) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /**
   * Resolves true as soon as an entry is committed after `after` (null: any entry), false after
   * `timeoutMs` or when the signal aborts or the journal closes. For `cdr tail --follow` and
   * webhook delivery: wait, then readAfter(after).
   */
  async waitForCommit(
    after: string | null,
    options: { readonly timeoutMs?: number; readonly signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const hasNewer = () => {
      const last = this.lastPosition();
      return last !== null && (after === null || last > after);
    };
    if (!this.writer) await this.refresh();
    if (hasNewer()) return true;
    if (this.closed || options.signal?.aborted) return false;
    return new Promise<boolean>((resolve) => {
      let poll: NodeJS.Timeout | null = null;
      let timeout: NodeJS.Timeout | null = null;
      const finish = (result: boolean) => {
        this.waiters.delete(check);
        if (poll) clearInterval(poll);
        if (timeout) clearTimeout(timeout);
        options.signal?.removeEventListener("abort", onAbort);
        resolve(result);
      };
      const check = () => {
        if (hasNewer()) finish(true);
        else if (this.closed) finish(false);
      };
      const onAbort = () => finish(false);
      this.waiters.add(check);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      if (options.timeoutMs !== undefined) timeout = setTimeout(() => finish(false), options.timeoutMs);
      if (this.readOnly)
        poll = setInterval(() => {
          this.refresh().then(check, () => {});
        }, this.pollIntervalMs);
    });
  }

  /** Commits everything pending (durably), then releases the file. Appends after close reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer as NodeJS.Timeout);
      clearImmediate(this.flushTimer as NodeJS.Immediate);
      this.flushTimer = null;
    }
    while (this.flushing !== null || this.pending.length > 0) {
      if (this.flushing === null) this.flushing = this.flushLoop();
      await this.flushing;
    }
    for (const w of [...this.waiters]) w();
    const h = this.handle;
    this.handle = null;
    await h?.close().catch(() => {});
    if (this.writer) await releaseWriterLock(this.lockFile()).catch(() => {});
  }

  // -------------------------------------------------------------------------------------------
  // Group commit

  private scheduleFlush(): void {
    if (this.flushing !== null || this.flushTimer !== null) return;
    const run = () => {
      this.flushTimer = null;
      if (this.flushing === null) this.flushing = this.flushLoop();
    };
    // setImmediate lets every append issued in the same turn join the first batch.
    const wait = Math.max(this.commitDelayMs, this.untilNextCommitMs());
    this.flushTimer = wait > 0 ? setTimeout(run, wait) : setImmediate(run);
  }

  /** How long the commit spacing still holds the next commit back (0: it may start now). */
  private untilNextCommitMs(): number {
    if (this.lastCommitAt === null || this.commitIntervalMs === 0) return 0;
    return Math.max(0, this.lastCommitAt + this.commitIntervalMs - this.clock.monotonic());
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        // Entries that arrived during the last fsync wait out the spacing and go in one batch
        // (not while closing: close() flushes at once).
        const wait = this.closed ? 0 : this.untilNextCommitMs();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        this.lastCommitAt = this.clock.monotonic();
        const batch = this.pending;
        this.pending = [];
        await this.commitBatch(batch);
      }
    } finally {
      this.flushing = null;
    }
  }

  private async commitBatch(batch: PendingAppend[]): Promise<void> {
    if (!this.writer && !(await this.retryOpen())) {
      const error = new JournalError(
        "not_writable",
        this.lockProblem ?? this.problem ?? "the CDR journal is not writable",
      );
      for (const p of batch) p.reject(error);
      return;
    }
    const started = this.clock.monotonic();
    this.commitStartedAt = started;
    const meta = this.activeMeta();
    try {
      const handle = await this.writableHandle();
      const active = this.activeMeta();
      if (active === undefined) throw new Error("no active segment");
      const buf = batchBytes(batch);
      this.dirty = true;
      let written = 0;
      while (written < buf.length) {
        const { bytesWritten } = await handle.write(buf, written, buf.length - written, null);
        written += bytesWritten;
      }
      await handle.datasync();
      this.dirty = false;
      const done = this.clock.monotonic();
      this.counters.fsyncs += 1;
      this.counters.entriesWritten += batch.length;
      this.counters.bytesWritten += buf.length;
      const base = active.bytes;
      let end = base;
      const positions: string[] = [];
      for (const p of batch) {
        end += p.bytes;
        const position = formatPosition(active.segment, end);
        noteEntry(active, p.entry, end, position);
        positions.push(position);
      }
      active.bytes = end;
      this.commitStartedAt = null;
      if (this.problem !== null) {
        this.log.warn({ file: this.activePath() }, "CDR journal writable again");
        this.problem = null;
      }
      const oldest = batch[0]?.enqueuedAt ?? started;
      const info: CommitInfo = {
        entries: batch.length,
        bytes: buf.length,
        latencyMs: done - oldest,
        syncMs: done - started,
        lastPosition: positions[positions.length - 1] as string,
      };
      if (info.syncMs > this.slowCommitMs) {
        this.counters.slowCommits += 1;
        this.log.warn(
          { file: this.activePath(), syncMs: Math.round(info.syncMs), entries: batch.length },
          "slow CDR journal commit",
        );
      }
      batch.forEach((p, i) => {
        p.resolve(positions[i] as string);
      });
      for (const listener of this.commitListeners) {
        try {
          listener(info);
        } catch (err) {
          this.log.error({ err: (err as Error).message }, "commit listener failed");
        }
      }
      for (const w of [...this.waiters]) w();
      if (active.bytes >= this.segmentBytes) await this.rotate();
    } catch (err) {
      this.commitStartedAt = null;
      this.counters.failedCommits += 1;
      const path = meta ? segmentPath(this.layout, meta.segment) : this.layout.dir;
      this.fail(err, path, "cannot commit CDRs");
      await this.discardPartialWrite();
      const error = new JournalError("not_writable", this.problem ?? "the CDR journal is not writable");
      for (const p of batch) p.reject(error);
    }
  }

  /** The handle of the active segment, reopening (or creating the next segment) after a fault. */
  private async writableHandle(): Promise<FileHandle> {
    const active = this.activeMeta();
    if (active === undefined || active.sealed) {
      await this.createSegment((active?.segment ?? 0) + 1);
    } else if (this.handle === null) {
      await this.openActive();
    }
    if (this.dirty) await this.discardPartialWrite(true);
    if (this.handle === null) throw new Error("the active segment is not open");
    return this.handle;
  }

  /**
   * After a failed write the segment may hold part of a batch whose appends were rejected:
   * cut it back to the last durable byte, or the retried entries would be there twice.
   */
  private async discardPartialWrite(mustSucceed = false): Promise<void> {
    const active = this.activeMeta();
    if (active === undefined || !this.dirty) return;
    try {
      if (this.handle !== null) {
        await this.handle.truncate(active.bytes);
        await this.handle.datasync();
      } else {
        await truncate(segmentPath(this.layout, active.segment), active.bytes);
      }
      this.dirty = false;
    } catch (err) {
      if (mustSucceed) throw err;
    }
  }

  private async rotate(): Promise<void> {
    const active = this.activeMeta();
    if (active === undefined) return;
    active.sealed = true;
    const h = this.handle;
    this.handle = null;
    await h?.close().catch(() => {});
    this.counters.segmentsRotated += 1;
    try {
      await this.persistIndex();
      await this.createSegment(active.segment + 1);
    } catch (err) {
      // The sealed segment is durable; the next commit retries creating the new one.
      this.fail(err, segmentPath(this.layout, active.segment + 1), "cannot rotate the CDR journal");
    }
  }

  private async createSegment(n: number): Promise<void> {
    const path = segmentPath(this.layout, n);
    // "a" rather than "wx": a segment created just before a crash (empty) is simply reused.
    const handle = await open(path, "a");
    try {
      await handle.datasync();
      await syncDirectory(this.layout.dir);
    } catch (err) {
      await handle.close().catch(() => {});
      throw err;
    }
    const existing = this.segments.find((s) => s.segment === n);
    if (existing === undefined) this.segments.push(emptySegment(n));
    this.handle = handle;
  }

  private async openActive(): Promise<void> {
    const active = this.activeMeta();
    if (active === undefined) return;
    this.handle = await open(segmentPath(this.layout, active.segment), "a");
  }

  private async persistIndex(): Promise<void> {
    try {
      await saveIndex(
        this.layout.indexFile,
        this.segments.filter((s) => s.sealed),
      );
    } catch (err) {
      // The index is a cache; without it the next open rescans. Not a reason to stop writing.
      this.log.warn(
        { err: (err as Error).message, file: this.layout.indexFile },
        "cannot save the journal index",
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Opening and recovery

  private async listSegmentNumbers(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.layout.dir);
    } catch {
      return [];
    }
    return names
      .map((name) => segmentNumberOf(this.layout, name))
      .filter((n): n is number => n !== null)
      .sort((a, b) => a - b);
  }

  /** Rebuilds a segment's meta from its lines; sets a torn tail aside (writable mode). */
  private async scanSegment(n: number, size: number): Promise<SegmentMeta> {
    const path = segmentPath(this.layout, n);
    const meta = emptySegment(n);
    const { validEnd } = await scanLines(path, 0, size, (line, _s, end) => {
      const entry = decodeEntry(line);
      if (entry === null) {
        this.counters.corruptLinesSkipped += 1;
        this.log.warn({ file: path, endOffset: end }, "skipping a CDR journal line that is not an entry");
      } else noteEntry(meta, entry, end);
      return true;
    });
    meta.bytes = validEnd;
    if (validEnd < size && this.writer) await this.setTornTailAside(path, validEnd, size);
    return meta;
  }

  private async setTornTailAside(path: string, validEnd: number, size: number): Promise<void> {
    const tornFile = `${path}.torn`;
    try {
      const fh = await open(path, "r");
      let tail: Buffer;
      try {
        tail = Buffer.alloc(size - validEnd);
        await fh.read(tail, 0, tail.length, validEnd);
      } finally {
        await fh.close();
      }
      await appendFile(tornFile, Buffer.concat([tail, Buffer.from("\n")]));
      await truncate(path, validEnd);
      const fh2 = await open(path, "r+");
      try {
        await fh2.datasync();
      } finally {
        await fh2.close();
      }
      this.counters.tornTailsRecovered += 1;
      this.log.warn(
        { file: path, bytes: size - validEnd, movedTo: tornFile },
        "CDR journal ended in a torn write (a crash while writing); set it aside — it was never acknowledged",
      );
    } catch (err) {
      this.fail(err, path, "cannot set a torn journal tail aside");
    }
  }

  /**
   * A journal that could not be opened for writing (no directory, locked by another process)
   * tries again when there is something to write, at most every few seconds: an operator who
   * fixes the location does not have to restart the proxy.
   */
  private async retryOpen(): Promise<boolean> {
    const now = this.clock.monotonic();
    if (this.lastOpenAttempt !== null && now - this.lastOpenAttempt < OPEN_RETRY_MS) return false;
    this.lastOpenAttempt = now;
    this.segments = [];
    this.problem = null;
    this.lockProblem = null;
    await this.init();
    if (this.writer) this.log.warn({ dir: this.layout.dir }, "CDR journal opened for writing");
    return this.writer;
  }

  /** Readers without the writer lock: picks up segments and bytes a writer committed since. */
  private async refresh(): Promise<void> {
    const numbers = await this.listSegmentNumbers();
    for (const n of numbers) {
      let meta = this.segments.find((s) => s.segment === n);
      if (meta === undefined) {
        meta = emptySegment(n);
        this.segments.push(meta);
        this.segments.sort((a, b) => a.segment - b.segment);
      }
      const size = await fileSize(segmentPath(this.layout, n));
      if (size <= meta.bytes) continue;
      const m = meta;
      const { validEnd } = await scanLines(segmentPath(this.layout, n), m.bytes, size, (line, _s, end) => {
        const entry = decodeEntry(line);
        if (entry !== null) noteEntry(m, entry, end);
        return true;
      });
      m.bytes = validEnd;
    }
  }

  // -------------------------------------------------------------------------------------------

  private lockFile(): string {
    return `${this.layout.dir}/${this.layout.stem}.lock`;
  }

  private activeMeta(): SegmentMeta | undefined {
    return this.segments[this.segments.length - 1];
  }

  private activePath(): string {
    const active = this.activeMeta();
    return segmentPath(this.layout, active?.segment ?? 1);
  }

  private fail(err: unknown, path: string, what: string): void {
    const e = err as NodeJS.ErrnoException;
    const problem = `${what}: ${e.code ?? "error"} ${e.message ?? String(err)} (${path})`;
    if (problem !== this.problem)
      this.log.error({ err: e.message, code: e.code, file: path }, `CDR journal NOT WRITABLE — ${what}`);
    this.problem = problem;
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** fsync the directory so a new segment's name survives a crash (POSIX: the entry is data too). */
async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
