// The embedded DurationStore: one append-only JSON-lines file (`durations.jsonl` beside
// `cdr.file`), one line per accepted item, each batch written with one write and fdatasync'd
// before the API answers, so an accepted batch survives a crash. On open the file is replayed
// into memory (the newest line per carrier and correlationId wins, which is what makes a re-sent
// item replace the earlier one). A torn last line — a crash mid-write, before the batch was
// acknowledged — is cut off (src/util/torn-tail.ts). Lines are never rewritten; compaction
// (dropping replaced lines) is left to an operator's rotation, which the replay order makes safe.
import { createReadStream } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import { type CarrierDuration, type DurationStore, storedDuration } from "../../calls/duration-store.js";
import type { Logger } from "../../util/logger.js";
import { cutTornTail } from "../../util/torn-tail.js";

interface DurationLine extends CarrierDuration {
  readonly carrierId: string;
}

function parseLine(text: string): DurationLine | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  const carrierId = (v as { carrierId?: unknown } | null)?.carrierId;
  const d = storedDuration(v);
  return typeof carrierId === "string" && d !== null ? { carrierId, ...d } : null;
}

export class FileDurationStore implements DurationStore {
  private readonly byCarrier = new Map<string, Map<string, CarrierDuration>>();
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly handle: FileHandle,
    /** Bytes of complete, acknowledged lines. */
    private size: number,
  ) {}

  static async open(file: string, logger?: Logger): Promise<FileDurationStore> {
    await mkdir(dirname(file), { recursive: true });
    const end = await cutTornTail(file, logger);
    const handle = await open(file, "a");
    const store = new FileDurationStore(file, handle, end);
    if (end > 0) await store.replay(logger);
    return store;
  }

  private async replay(logger?: Logger): Promise<void> {
    const lines = createInterface({
      input: createReadStream(this.file, "utf8"),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let damaged = 0;
    for await (const text of lines) {
      if (text === "") continue;
      const line = parseLine(text);
      if (line === null) {
        damaged++;
        continue;
      }
      this.keep(line.carrierId, line);
    }
    if (damaged > 0)
      logger?.warn({ file: this.file, damaged }, "skipped damaged lines in the durations file");
  }

  private keep(carrierId: string, d: CarrierDuration): void {
    let map = this.byCarrier.get(carrierId);
    if (map === undefined) {
      map = new Map();
      this.byCarrier.set(carrierId, map);
    }
    const {
      correlationId,
      startDateTime,
      startMs,
      durationSeconds,
      calleeNumber,
      callerNumber,
      receivedDateTime,
    } = d;
    map.set(correlationId, {
      correlationId,
      startDateTime,
      startMs,
      durationSeconds,
      calleeNumber,
      callerNumber,
      receivedDateTime,
    });
  }

  put(carrierId: string, items: readonly CarrierDuration[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    const text = Buffer.from(items.map((d) => `${JSON.stringify({ carrierId, ...d })}\n`).join(""), "utf8");
    const write = this.writes.then(async () => {
      try {
        await this.handle.write(text);
        await this.handle.datasync();
      } catch (err) {
        // All or nothing: a batch the API reports as failed must not reappear after a restart.
        await this.handle.truncate(this.size).catch(() => undefined);
        throw err;
      }
      this.size += text.length;
      for (const d of items) this.keep(carrierId, d);
    });
    // A failed write must not wedge later ones; the caller sees its own failure.
    this.writes = write.catch(() => undefined);
    return write;
  }

  async inRange(carrierId: string, fromMs: number, toMs: number): Promise<readonly CarrierDuration[]> {
    const out: CarrierDuration[] = [];
    for (const d of this.byCarrier.get(carrierId)?.values() ?? []) {
      if (d.startMs >= fromMs && d.startMs < toMs) out.push(d);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.writes;
    await this.handle.close();
  }
}
