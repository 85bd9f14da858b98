// What webhook delivery keeps across restarts: per carrier, the CDR log position up to which
// every record was acknowledged (2xx) or dead-lettered, and the dead-letter list. Both are
// ports so the Redis store can hold them for a cluster; the embedded adapters below are files
// beside `cdr.file`, the Redis ones are in src/store/redis/ (webhook-coordination.ts,
// dead-letter-store.ts).
import { randomUUID } from "node:crypto";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { AppendOnlyFile } from "../../util/append-only-file.js";
import type { Logger } from "../../util/logger.js";

/**
 * Which instance delivers a carrier's CDRs when several share one CDR stream (Redis): the
 * holder of the carrier's lease. `hold` takes the lease or renews it, and says whether this
 * instance holds it now; a lease that is not renewed lapses, so another instance takes over
 * (from the shared position: what was in flight is sent again, at-least-once).
 */
export interface DeliveryLease {
  hold(carrierId: string): Promise<boolean>;
  release(carrierId: string): Promise<void>;
}

export interface DeliveryPositionStore {
  /** The position after the last record acknowledged or dead-lettered; null: none yet. */
  load(carrierId: string): Promise<string | null>;
  /** Durable before it resolves. */
  save(carrierId: string, position: string): Promise<void>;
}

export interface DeadLetter {
  readonly id: string;
  readonly carrierId: string;
  readonly url: string;
  /** ISO 8601 UTC: when the last try failed. */
  readonly failedDateTime: string;
  readonly attempts: number;
  /** The last failure, e.g. "HTTP 503" or "timeout after 10000 ms". */
  readonly lastError: string;
  /** The CDR ids of the batch (each can be fetched with GET /v1/carrier/cdrs/{id}). */
  readonly recordIds: readonly string[];
}

export interface DeadLetterStore {
  /** Keeps the batch (with its exact body, for an operator's replay); durable before it resolves. */
  add(letter: Omit<DeadLetter, "id">, body: string): Promise<DeadLetter>;
  list(carrierId: string): Promise<readonly DeadLetter[]>;
  /** For the metric; with Redis, the whole cluster's list. */
  count(carrierId: string): Promise<number>;
  close(): Promise<void>;
}

/** One small JSON file per carrier, replaced atomically (write, fsync, rename). */
export class FilePositionStore implements DeliveryPositionStore {
  constructor(private readonly dir: string) {}

  private file(carrierId: string): string {
    return join(this.dir, `webhook-${encodeURIComponent(carrierId)}.position.json`);
  }

  async load(carrierId: string): Promise<string | null> {
    try {
      const v = JSON.parse(await readFile(this.file(carrierId), "utf8")) as { position?: unknown };
      return typeof v.position === "string" ? v.position : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new Error(`cannot read the webhook position of carrier ${carrierId}: ${(err as Error).message}`);
    }
  }

  async save(carrierId: string, position: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = this.file(carrierId);
    const tmp = `${file}.tmp`;
    const fh = await open(tmp, "w");
    try {
      await fh.write(`${JSON.stringify({ position })}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  }
}

/**
 * `webhook-dead-letters.jsonl`: one line per dead-lettered batch, metadata kept in memory. A torn
 * last line (a crash mid-write) is cut off on open, and a failed write is undone, so the next
 * letter always starts on a line of its own (src/util/append-only-file.ts).
 */
/** A line of the dead-letter file, without the batch body it keeps for the operator. */
function parseLetter(text: string): DeadLetter | null {
  try {
    const v = JSON.parse(text) as DeadLetter & { body?: unknown };
    if (typeof v.id !== "string" || typeof v.carrierId !== "string" || !Array.isArray(v.recordIds))
      return null;
    const { body: _body, ...letter } = v;
    return letter;
  } catch {
    return null;
  }
}

export class FileDeadLetterStore implements DeadLetterStore {
  private readonly byCarrier = new Map<string, DeadLetter[]>();

  private constructor(private readonly file: AppendOnlyFile) {}

  static async open(dir: string, logger?: Logger): Promise<FileDeadLetterStore> {
    const file = join(dir, "webhook-dead-letters.jsonl");
    const appendOnly = await AppendOnlyFile.open(file, logger);
    const store = new FileDeadLetterStore(appendOnly);
    const damaged = await appendOnly.replay(parseLetter, (letter) => store.remember(letter));
    if (damaged > 0) logger?.warn({ file, damaged }, "skipped damaged lines in the dead-letter file");
    return store;
  }

  private remember(letter: DeadLetter): void {
    const list = this.byCarrier.get(letter.carrierId) ?? [];
    list.push(letter);
    this.byCarrier.set(letter.carrierId, list);
  }

  add(letter: Omit<DeadLetter, "id">, body: string): Promise<DeadLetter> {
    const full: DeadLetter = { id: randomUUID(), ...letter };
    // All or nothing: a batch whose add fails was not dead-lettered (its position is not saved,
    // it is tried again), so no fragment of it may stay in the file.
    return this.file.append(`${JSON.stringify({ ...full, body })}\n`, () => {
      this.remember(full);
      return full;
    });
  }

  async list(carrierId: string): Promise<readonly DeadLetter[]> {
    return this.byCarrier.get(carrierId) ?? [];
  }

  async count(carrierId: string): Promise<number> {
    return this.byCarrier.get(carrierId)?.length ?? 0;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
