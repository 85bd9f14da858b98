// One writer per journal. Two dialgate processes appending to the same segment would interleave
// batches and break every position, so the writer holds `<stem>.lock` (its pid). A lock whose
// pid is gone (SIGKILL, power loss) is stale and taken over; a container restart that gets the
// same pid back is recognised because the lock is not held by this process. Readers (`cdr tail`)
// take no lock.
import { readFile, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { resolve } from "node:path";

const heldHere = new Set<string>();

export type LockResult = { readonly ok: true } | { readonly ok: false; readonly holder: string };

export async function acquireWriterLock(path: string): Promise<LockResult> {
  const key = resolve(path);
  if (heldHere.has(key)) return { ok: false, holder: `this process (pid ${process.pid})` };
  const body = `${JSON.stringify({ pid: process.pid, host: hostname() })}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, body, { flag: "wx" });
      heldHere.add(key);
      return { ok: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = await readHolder(path);
    if (holder !== null && holder.host !== hostname())
      return {
        ok: false,
        holder: `pid ${holder.pid} on ${holder.host} (remove ${path} if that host is down)`,
      };
    if (holder !== null && holder.pid !== process.pid && alive(holder.pid))
      return { ok: false, holder: `pid ${holder.pid}` };
    // Stale (its process is gone, or it was an earlier incarnation of this pid): take it over.
    await rm(path, { force: true });
  }
  return { ok: false, holder: "another process (the lock file reappeared)" };
}

export async function releaseWriterLock(path: string): Promise<void> {
  const key = resolve(path);
  if (!heldHere.delete(key)) return;
  await rm(path, { force: true });
}

async function readHolder(path: string): Promise<{ pid: number; host: string } | null> {
  try {
    const v = JSON.parse(await readFile(path, "utf8")) as { pid?: unknown; host?: unknown };
    return typeof v.pid === "number" && typeof v.host === "string" ? { pid: v.pid, host: v.host } : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
