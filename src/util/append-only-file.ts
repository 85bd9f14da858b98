// An append-only JSON-lines file (carrier durations, webhook dead letters) whose every append is
// all or nothing: written, fdatasync'd, and only then acknowledged. A write or sync that fails is
// undone (the file is truncated back to its last acknowledged byte), so the caller can report the
// batch as failed and the next append still starts on a line of its own — a fragment left behind
// would reappear after a restart, or glue the next line onto itself and make both unreadable.
// Appends are serialized: the truncate-back is only safe when no other write is in flight.
// A torn tail left by a crash is cut on open (src/util/torn-tail.ts).
import { createReadStream } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import type { Logger } from "./logger.js";
import { cutTornTail } from "./torn-tail.js";

export class AppendOnlyFile {
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** Bytes of complete, acknowledged lines. */
    private acknowledged: number,
  ) {}

  /** Creates the directory if needed, cuts a torn tail and opens `file` for appending. */
  static async open(file: string, logger?: Logger): Promise<AppendOnlyFile> {
    await mkdir(dirname(file), { recursive: true });
    const end = await cutTornTail(file, logger);
    const handle = await open(file, "a");
    return new AppendOnlyFile(file, handle, end);
  }

  /** Bytes of complete, acknowledged lines (0: nothing to replay). */
  get size(): number {
    return this.acknowledged;
  }

  /**
   * Reads the acknowledged lines back, in write order: each non-empty line that `parse` accepts
   * goes to `take`; returns how many it refused (damaged lines, for the caller to report).
   */
  async replay<T>(parse: (line: string) => T | null, take: (value: T) => void): Promise<number> {
    if (this.acknowledged === 0) return 0;
    const lines = createInterface({
      input: createReadStream(this.path, { encoding: "utf8", end: this.acknowledged - 1 }),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let damaged = 0;
    for await (const text of lines) {
      if (text === "") continue;
      const value = parse(text);
      if (value === null) damaged++;
      else take(value);
    }
    return damaged;
  }

  /**
   * Appends `text` (whole lines, newline-terminated) after every earlier append, durably, and
   * then runs `onDurable` — still in write order, before the next append starts — and resolves
   * with its result. On failure nothing of `text` stays in the file, `onDurable` does not run,
   * and the promise rejects with the write's error.
   */
  append<T>(text: string, onDurable: () => T): Promise<T> {
    const bytes = Buffer.from(text, "utf8");
    const write = this.writes.then(async () => {
      try {
        await this.handle.write(bytes);
        await this.handle.datasync();
      } catch (err) {
        await this.handle.truncate(this.acknowledged).catch(() => undefined);
        throw err;
      }
      this.acknowledged += bytes.length;
      return onDurable();
    });
    // A failed write must not wedge later ones; the caller sees its own failure.
    this.writes = write.then(
      () => undefined,
      () => undefined,
    );
    return write;
  }

  /** Waits for the appends in flight, then closes the file. */
  async close(): Promise<void> {
    await this.writes;
    await this.handle.close();
  }
}
