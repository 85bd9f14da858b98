// Append-only JSON-lines files (carrier durations, webhook dead letters) end every acknowledged
// write with a newline. Bytes after the last newline are a write that never completed (a crash
// mid-write): nothing was acknowledged for them, so they are cut off before the file is appended
// to again. Left in place, the next line would be glued onto the fragment and be unreadable —
// lost — at the restart after that.
import { open, stat, truncate } from "node:fs/promises";
import type { Logger } from "./logger.js";

/** Largest read while looking back for the last newline. */
const WINDOW_BYTES = 1 << 20;

/** Cuts bytes after the last newline of `file`; returns the size kept (0 when there is no file). */
export async function cutTornTail(file: string, logger?: Logger): Promise<number> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw err;
  }
  if (size === 0) return 0;
  const keep = await endOfLastLine(file, size);
  if (keep < size) {
    logger?.warn({ file, bytes: size - keep }, "cut a torn last line (a write that never completed)");
    await truncate(file, keep);
  }
  return keep;
}

/** The offset just after the last newline (0 when there is none). */
async function endOfLastLine(file: string, size: number): Promise<number> {
  const fh = await open(file, "r");
  try {
    let pos = size;
    // Walk back in windows until a newline is found (or the start of the file).
    while (pos > 0) {
      const from = Math.max(0, pos - WINDOW_BYTES);
      const buf = Buffer.alloc(pos - from);
      await fh.read(buf, 0, buf.length, from);
      const nl = buf.lastIndexOf(0x0a);
      if (nl !== -1) return from + nl + 1;
      pos = from;
    }
    return 0;
  } finally {
    await fh.close();
  }
}
