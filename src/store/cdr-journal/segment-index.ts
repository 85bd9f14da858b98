// What the journal knows about each segment without reading it: enough for a reader to start at
// a position, and to skip whole segments by inviteDateTime. Sealed segments' entries are
// persisted in `<stem>.index.json` (atomically, at each rotation); the active segment's is
// rebuilt by scanning it on open.
import { open, readFile, rename } from "node:fs/promises";
import type { CdrLogEntry } from "../../calls/call-record.js";
import { entryInviteTime } from "./entry-codec.js";
import { formatPosition } from "./position.js";

export interface SegmentMeta {
  readonly segment: number;
  /** Committed (durable, complete-line) bytes: readers never read past this. */
  bytes: number;
  count: number;
  /** Position of the first / last entry (null while empty). */
  firstPosition: string | null;
  lastPosition: string | null;
  /** Epoch ms bounds of the entries' inviteDateTime (null while no dated entry). */
  minInvite: number | null;
  maxInvite: number | null;
  /** Holds an entry without a known inviteDateTime: the segment cannot be skipped by time. */
  undated: boolean;
  sealed: boolean;
}

export function emptySegment(segment: number): SegmentMeta {
  return {
    segment,
    bytes: 0,
    count: 0,
    firstPosition: null,
    lastPosition: null,
    minInvite: null,
    maxInvite: null,
    undated: false,
    sealed: false,
  };
}

/** Accounts one committed entry ending at `end` (its position, when the caller has it already). */
export function noteEntry(
  meta: SegmentMeta,
  entry: CdrLogEntry,
  end: number,
  position = formatPosition(meta.segment, end),
): void {
  if (meta.firstPosition === null) meta.firstPosition = position;
  meta.lastPosition = position;
  meta.count += 1;
  const t = entryInviteTime(entry);
  if (t === null) meta.undated = true;
  else {
    if (meta.minInvite === null || t < meta.minInvite) meta.minInvite = t;
    if (meta.maxInvite === null || t > meta.maxInvite) meta.maxInvite = t;
  }
}

/** Whether a segment may hold entries with inviteDateTime in [from, to). */
export function mayOverlap(meta: SegmentMeta, from: number | undefined, to: number | undefined): boolean {
  if (meta.count === 0) return false;
  if (meta.undated || meta.minInvite === null || meta.maxInvite === null) return true;
  if (from !== undefined && meta.maxInvite < from) return false;
  if (to !== undefined && meta.minInvite >= to) return false;
  return true;
}

interface IndexFile {
  readonly version: 1;
  readonly segments: readonly SegmentMeta[];
}

/** The persisted metas by segment number; empty when the index is missing or unreadable. */
export async function loadIndex(path: string): Promise<Map<number, SegmentMeta>> {
  const out = new Map<number, SegmentMeta>();
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch {
    return out;
  }
  const file = parsed as Partial<IndexFile>;
  if (file.version !== 1 || !Array.isArray(file.segments)) return out;
  for (const s of file.segments) {
    if (typeof s?.segment !== "number" || typeof s.bytes !== "number" || typeof s.count !== "number")
      continue;
    out.set(s.segment, { ...s, sealed: true });
  }
  return out;
}

/** Writes the index atomically (temp file, fsync, rename) so a crash leaves old or new. */
export async function saveIndex(path: string, sealed: readonly SegmentMeta[]): Promise<void> {
  const tmp = `${path}.tmp`;
  const body: IndexFile = { version: 1, segments: sealed };
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(`${JSON.stringify(body)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
