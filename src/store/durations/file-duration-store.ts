// The embedded DurationStore: one append-only JSON-lines file (`durations.jsonl` beside
// `cdr.file`), one line per accepted item, each batch written with one write and fdatasync'd
// before the API answers, so an accepted batch survives a crash. On open the file is replayed
// into memory (the newest line per carrier and correlationId wins, which is what makes a re-sent
// item replace the earlier one). A torn last line — a crash mid-write, before the batch was
// acknowledged — is cut off (src/util/append-only-file.ts). Lines are never rewritten; compaction
// (dropping replaced lines) is left to an operator's rotation, which the replay order makes safe.
import { type CarrierDuration, type DurationStore, storedDuration } from "../../calls/duration-store.js";
import { AppendOnlyFile } from "../../util/append-only-file.js";
import type { Logger } from "../../util/logger.js";

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

  private constructor(private readonly file: AppendOnlyFile) {}

  static async open(file: string, logger?: Logger): Promise<FileDurationStore> {
    const store = new FileDurationStore(await AppendOnlyFile.open(file, logger));
    if (store.file.size > 0) await store.replay(logger);
    return store;
  }

  private async replay(logger?: Logger): Promise<void> {
    const damaged = await this.file.replay(parseLine, (line) => this.keep(line.carrierId, line));
    if (damaged > 0)
      logger?.warn({ file: this.file.path, damaged }, "skipped damaged lines in the durations file");
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
    const text = items.map((d) => `${JSON.stringify({ carrierId, ...d })}\n`).join("");
    // All or nothing: a batch the API reports as failed must not reappear after a restart.
    return this.file.append(text, () => {
      for (const d of items) this.keep(carrierId, d);
    });
  }

  async inRange(carrierId: string, fromMs: number, toMs: number): Promise<readonly CarrierDuration[]> {
    const out: CarrierDuration[] = [];
    for (const d of this.byCarrier.get(carrierId)?.values() ?? []) {
      if (d.startMs >= fromMs && d.startMs < toMs) out.push(d);
    }
    return out;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
