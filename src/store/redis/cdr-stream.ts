// CDRs in a Redis Stream (carrier-api.md "Durable delivery"): every instance appends to one
// stream, so the carrier API of any instance sees every instance's calls. A stream id is the
// position (the pull API's cursor); webhook delivery can read through consumer groups
// (at-least-once: acknowledged only after the carrier accepted a batch). Retention is by age:
// each append trims entries older than `retentionMs` (stream ids are millisecond times).
//
// Idempotency: an append carries its key (the CDR id; for a quality amendment a digest of it),
// and the script that appends also records key -> stream id, so appending the same entry twice
// returns the first position instead of a second copy. That is what makes the spool safe:
//
// While Redis is unreachable, appends go to the local journal (`cdr.file`, fsync'd) instead and
// resolve once durable there. A replay loop copies the journal into the stream once Redis is
// back, then remembers how far it got (a small cursor file beside the journal, written after
// each batch). A crash between a batch and its cursor write replays the batch again, which the
// idempotency keys turn into no-ops: none lost, none twice.
import { createHash } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { applyAmendments } from "../../calls/amend.js";
import type { CallRecord, CdrLogEntry, QualityAmendment } from "../../calls/call-record.js";
import type { CdrLog, CdrLogHealth, CdrReadFilter, CommittedEntry } from "../../calls/cdr-log.js";
import type { Logger } from "../../util/logger.js";
import { CALL_PATH_TIMEOUT_MS, isRedisReady, type RedisClient, withDeadline } from "./connection.js";
import type { RedisKeys } from "./keys.js";

// Appends a batch of entries in one round trip (the entries of one event-loop turn: one
// command per busy turn instead of one per CDR).
// KEYS: stream, key->id hash, keys by time, then per entry the amendments set of its record (or
// a placeholder). ARGV: now ms, min id to keep, then per entry: idempotency key, entry JSON,
// amended record id ('' for a CDR). Returns the stream id of each entry, in order.
const APPEND_SCRIPT = `
local now, minid = tonumber(ARGV[1]), ARGV[2]
local out = {}
for i = 1, (#ARGV - 2) / 3 do
  local key, json, rec = ARGV[3 * i], ARGV[3 * i + 1], ARGV[3 * i + 2]
  local id = redis.call('HGET', KEYS[2], key)
  if not id then
    id = redis.call('XADD', KEYS[1], 'MINID', '~', minid, '*', 'e', json)
    redis.call('HSET', KEYS[2], key, id)
    redis.call('ZADD', KEYS[3], now, key)
    if rec ~= '' then
      redis.call('SADD', KEYS[3 + i], id)
      redis.call('PEXPIRE', KEYS[3 + i], now - tonumber(minid))
    end
  end
  out[i] = id
end
local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. minid, 'LIMIT', 0, 100)
for _, k in ipairs(old) do
  redis.call('HDEL', KEYS[2], k)
  redis.call('ZREM', KEYS[3], k)
end
return out
`;

/** Largest batch per script call (bounds the script's run time inside Redis). */
const MAX_APPEND_BATCH = 256;

interface QueuedAppend {
  readonly entry: CdrLogEntry;
  readonly resolve: (id: string) => void;
  readonly reject: (err: Error) => void;
}

const POSITION = /^\d{1,20}-\d{1,20}$/;
const SPOOL_PREFIX = "spool:";

export interface RedisCdrStreamOptions {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  /** The local journal: the spool while Redis is down. */
  readonly spool: CdrLog;
  /** Where the replay cursor is kept (beside the journal). */
  readonly replayCursorFile: string;
  readonly retentionMs: number;
  readonly now: () => number;
  readonly logger: Logger;
  /** How often the spool is checked for entries to replay (default 1 s). */
  readonly replayIntervalMs?: number;
  /** Told how many spooled entries wait for replay (metrics). */
  readonly onSpooled?: (pending: number) => void;
}

export function idempotencyKey(entry: CdrLogEntry): string {
  if (entry.kind === "cdr") return `cdr:${entry.record.id}`;
  const digest = createHash("sha256").update(JSON.stringify(entry.amendment)).digest("hex").slice(0, 32);
  return `quality:${entry.amendment.cdrId}:${digest}`;
}

export class RedisCdrStream implements CdrLog {
  private replayCursor: string | null = null;
  private pending = 0;
  /** Spool appends started / completed: the replay may only call the spool empty when idle. */
  private spoolInFlight = 0;
  private spoolSeq = 0;
  /** A replay waiting for a spool append in flight to settle (see replay()). */
  private spoolSettled: (() => void)[] = [];
  private replaying: Promise<void> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private closed = false;
  /** Appends of the current event-loop turn, sent together (flushAppends). */
  private queued: QueuedAppend[] = [];
  private flushScheduled = false;

  private constructor(private readonly options: RedisCdrStreamOptions) {}

  static async open(options: RedisCdrStreamOptions): Promise<RedisCdrStream> {
    const log = new RedisCdrStream(options);
    try {
      const text = (await readFile(options.replayCursorFile, "utf8")).trim();
      log.replayCursor = text === "" ? null : text;
    } catch {
      log.replayCursor = null;
    }
    // Whatever the journal holds after the cursor is owed to the stream (spooled before a
    // restart, or written in embedded mode before this instance moved to Redis).
    log.pending = await log.countSpooled();
    options.onSpooled?.(log.pending);
    log.timer = setInterval(() => void log.replay(), options.replayIntervalMs ?? 1_000);
    log.timer.unref();
    void log.replay();
    return log;
  }

  /** Entries in the journal not yet copied to the stream. */
  get spooled(): number {
    return this.pending;
  }

  async append(entry: CdrLogEntry): Promise<string> {
    // Replay first keeps commit order within this instance: nothing overtakes a spooled entry.
    if (this.pending === 0 && isRedisReady(this.options.client)) {
      try {
        return await this.appendToStream(entry);
      } catch (err) {
        this.options.logger.warn(
          { err: (err as Error).message },
          "cannot append a CDR to the Redis stream; spooling it to the local journal",
        );
      }
    }
    this.spoolInFlight++;
    let position: string;
    try {
      position = await this.options.spool.append(entry);
      this.spoolSeq++;
      this.pending++;
    } finally {
      this.spoolInFlight--;
      this.wakeReplay();
    }
    this.options.onSpooled?.(this.pending);
    return `${SPOOL_PREFIX}${position}`;
  }

  private wakeReplay(): void {
    const waiting = this.spoolSettled;
    this.spoolSettled = [];
    for (const wake of waiting) wake();
  }

  private appendToStream(entry: CdrLogEntry): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queued.push({ entry, resolve, reject });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        const all = this.queued;
        this.queued = [];
        for (let i = 0; i < all.length; i += MAX_APPEND_BATCH)
          void this.appendBatch(all.slice(i, i + MAX_APPEND_BATCH));
      });
    });
  }

  private async appendBatch(batch: readonly QueuedAppend[]): Promise<void> {
    const k = this.options.keys;
    const now = this.options.now();
    const keys = [k.cdrStream, k.cdrIndex, k.cdrIndexByTime];
    const args = [String(now), String(Math.max(0, now - this.options.retentionMs))];
    for (const { entry } of batch) {
      const recordId = entry.kind === "quality" ? entry.amendment.cdrId : "";
      keys.push(recordId === "" ? `${k.cdrStream}:none` : amendmentsKey(k, recordId));
      args.push(idempotencyKey(entry), JSON.stringify(entry), recordId);
    }
    try {
      // An append that timed out may still be carried out once Redis answers: its entries are
      // then spooled as well, and their idempotency keys make the replay a no-op.
      const ids = (await withDeadline(
        this.options.client.eval(APPEND_SCRIPT, keys.length, ...keys, ...args),
        CALL_PATH_TIMEOUT_MS,
        "a CDR append",
      )) as unknown[];
      batch.forEach((q, i) => {
        q.resolve(String(ids[i]));
      });
    } catch (err) {
      for (const q of batch) q.reject(err as Error);
    }
  }

  /** Copies spooled entries to the stream while Redis is reachable. */
  replay(): Promise<void> {
    if (this.replaying !== null) return this.replaying;
    if (this.pending === 0 || this.closed || !isRedisReady(this.options.client)) return Promise.resolve();
    this.replaying = (async () => {
      try {
        for (;;) {
          const seq = this.spoolSeq;
          const batch = await this.options.spool.readAfter(this.replayCursor, 100);
          if (batch.length === 0) {
            // Empty only counts when no spooled append completed or is under way meanwhile.
            if (seq === this.spoolSeq && this.spoolInFlight === 0) break;
            // One is still committing: wait for it. Reading again at once found nothing without
            // any I/O, so the loop spun on promise callbacks alone and starved the very commit
            // it waited for (a process stuck at 100% CPU after a Redis outage under load).
            if (this.spoolInFlight > 0) await new Promise<void>((resolve) => this.spoolSettled.push(resolve));
            continue;
          }
          // Queued in one turn: one script call for the batch, entries kept in journal order.
          await Promise.all(batch.map((c) => this.appendToStream(c.entry)));
          const last = batch[batch.length - 1] as CommittedEntry;
          await this.saveCursor(last.position);
          this.pending = Math.max(0, this.pending - batch.length);
          this.options.onSpooled?.(this.pending);
        }
        this.pending = 0;
        this.options.onSpooled?.(0);
      } catch (err) {
        this.options.logger.warn({ err: (err as Error).message }, "CDR spool replay paused; retrying");
      } finally {
        this.replaying = null;
      }
    })();
    return this.replaying;
  }

  private async saveCursor(position: string): Promise<void> {
    const tmp = `${this.options.replayCursorFile}.tmp`;
    await writeFile(tmp, `${position}\n`);
    await rename(tmp, this.options.replayCursorFile);
    this.replayCursor = position;
  }

  private async countSpooled(): Promise<number> {
    let n = 0;
    let after = this.replayCursor;
    for (;;) {
      const batch = await this.options.spool.readAfter(after, 1000);
      if (batch.length === 0) return n;
      n += batch.length;
      after = (batch[batch.length - 1] as CommittedEntry).position;
    }
  }

  async readAfter(
    after: string | null,
    limit: number,
    _filter?: CdrReadFilter,
  ): Promise<readonly CommittedEntry[]> {
    const start = after === null ? "-" : `(${after}`;
    const rows = (await this.options.client.xrange(
      this.options.keys.cdrStream,
      start,
      "+",
      "COUNT",
      limit,
    )) as [string, string[]][];
    const out: CommittedEntry[] = [];
    for (const [id, fields] of rows) {
      const entry = parseEntry(fields);
      if (entry !== null) out.push({ position: id, entry });
    }
    return out;
  }

  isValidPosition(position: string): boolean {
    return POSITION.test(position);
  }

  async findById(id: string): Promise<CallRecord | null> {
    const k = this.options.keys;
    const streamId = await this.options.client.hget(k.cdrIndex, `cdr:${id}`);
    if (streamId === null) return null;
    const rows = (await this.options.client.xrange(k.cdrStream, streamId, streamId)) as [string, string[]][];
    const entry = rows[0] === undefined ? null : parseEntry(rows[0][1]);
    if (entry === null || entry.kind !== "cdr") return null;
    const amendmentIds = (await this.options.client.smembers(amendmentsKey(k, id))).sort(compareStreamIds);
    const amendments: QualityAmendment[] = [];
    for (const aid of amendmentIds) {
      const r = (await this.options.client.xrange(k.cdrStream, aid, aid)) as [string, string[]][];
      const a = r[0] === undefined ? null : parseEntry(r[0][1]);
      if (a?.kind === "quality") amendments.push(a.amendment);
    }
    return applyAmendments(entry.record, amendments);
  }

  /**
   * Consumer groups for delivery workers (at-least-once): creates `group` if needed, then reads
   * up to `count` entries not yet delivered to it (pending ones of `consumer` first).
   */
  async readGroup(group: string, consumer: string, count: number): Promise<readonly CommittedEntry[]> {
    const stream = this.options.keys.cdrStream;
    try {
      await this.options.client.xgroup("CREATE", stream, group, "0", "MKSTREAM");
    } catch (err) {
      if (!String((err as Error).message).includes("BUSYGROUP")) throw err;
    }
    const read = async (id: string) => {
      const reply = (await this.options.client.xreadgroup(
        "GROUP",
        group,
        consumer,
        "COUNT",
        count,
        "STREAMS",
        stream,
        id,
      )) as [string, [string, string[]][]][] | null;
      const rows = reply?.[0]?.[1] ?? [];
      const out: CommittedEntry[] = [];
      for (const [pos, fields] of rows) {
        const entry = parseEntry(fields);
        if (entry !== null) out.push({ position: pos, entry });
      }
      return out;
    };
    const pendingOnes = await read("0");
    return pendingOnes.length > 0 ? pendingOnes : read(">");
  }

  /** Acknowledges delivered entries (after the carrier's 2xx). */
  async ack(group: string, positions: readonly string[]): Promise<void> {
    if (positions.length === 0) return;
    await this.options.client.xack(this.options.keys.cdrStream, group, ...positions);
  }

  health(): CdrLogHealth {
    if (isRedisReady(this.options.client)) return { writable: true, problem: null };
    const spool = this.options.spool.health();
    return spool.writable
      ? { writable: true, problem: null }
      : {
          writable: false,
          problem: `Redis unreachable and the local spool is not writable: ${spool.problem}`,
        };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.replaying;
  }
}

function amendmentsKey(keys: RedisKeys, recordId: string): string {
  return `${keys.cdrStream}:amendments:${recordId}`;
}

function parseEntry(fields: readonly string[]): CdrLogEntry | null {
  const i = fields.indexOf("e");
  const text = i >= 0 ? fields[i + 1] : undefined;
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as CdrLogEntry;
  } catch {
    return null;
  }
}

function compareStreamIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split("-").map((x) => BigInt(x));
  const [bm = 0n, bs = 0n] = b.split("-").map((x) => BigInt(x));
  return am === bm ? (as < bs ? -1 : as > bs ? 1 : 0) : am < bm ? -1 : 1;
}
