// Reads a byte range of a segment as newline-terminated lines, in large chunks. Bytes after the
// last newline are not a line (a write in progress, or a torn tail after a crash): the scan
// reports where the last complete line ended so the journal can tell.
import { open } from "node:fs/promises";

const CHUNK_BYTES = 1 << 20;
const NEWLINE = 0x0a;

/** Called per complete line (without its newline); return false to stop. */
export type LineVisitor = (line: Buffer, start: number, end: number) => boolean | undefined;

export interface ScanResult {
  /** Offset just after the last complete line seen (== `from` when none). */
  readonly validEnd: number;
  /** Whether the visitor stopped the scan early. */
  readonly stopped: boolean;
}

/**
 * Visits the complete lines in [from, to). With a `needle`, only lines containing it are
 * visited, and chunks without it are skipped without splitting (findById over large segments).
 */
export async function scanLines(
  path: string,
  from: number,
  to: number,
  visit: LineVisitor,
  needle?: Buffer,
): Promise<ScanResult> {
  if (to <= from) return { validEnd: from, stopped: false };
  const fh = await open(path, "r");
  try {
    let carry: Buffer = Buffer.alloc(0);
    let carryStart = from;
    let pos = from;
    while (pos < to) {
      const want = Math.min(CHUNK_BYTES, to - pos);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      const fresh = buf.subarray(0, bytesRead);
      const block = carry.length > 0 ? Buffer.concat([carry, fresh]) : fresh;
      const blockStart = carryStart;
      const lastNewline = block.lastIndexOf(NEWLINE);
      if (lastNewline === -1) {
        carry = block;
        continue;
      }
      const complete = block.subarray(0, lastNewline + 1);
      carry = Buffer.from(block.subarray(lastNewline + 1));
      carryStart = blockStart + lastNewline + 1;
      if (needle !== undefined && complete.indexOf(needle) === -1) continue;
      let start = 0;
      while (start < complete.length) {
        const nl = complete.indexOf(NEWLINE, start);
        const line = complete.subarray(start, nl);
        if (needle === undefined || line.indexOf(needle) !== -1) {
          if (visit(line, blockStart + start, blockStart + nl + 1) === false) {
            return { validEnd: blockStart + nl + 1, stopped: true };
          }
        }
        start = nl + 1;
      }
    }
    return { validEnd: carryStart, stopped: false };
  } finally {
    await fh.close();
  }
}
