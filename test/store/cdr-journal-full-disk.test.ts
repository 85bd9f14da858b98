// A full disk, for real: the journal on a tiny tmpfs (the test suite runs as root, as .ci/run
// does, to mount it). Appends that cannot be made durable are rejected (their callers keep
// them), health() says why, nothing half-written stays behind, and once space is freed the
// journal takes writes again.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { openCdrJournal } from "../../src/store/cdr-journal/index.js";
import { capturingLogger, cdrEntry } from "./support/cdr-fixtures.js";

let dir: string;
let mnt: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "dialgate-full-"));
  mnt = join(dir, "mnt");
  await mkdir(mnt);
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=128k", "tmpfs", mnt]);
});

afterEach(async () => {
  execFileSync("umount", [mnt]);
  await rm(dir, { recursive: true, force: true });
});

it("rejects appends on ENOSPC, reports it, keeps what was acknowledged, and recovers", async () => {
  const filler = join(mnt, "filler");
  await writeFile(filler, Buffer.alloc(48 * 1024));
  const { logger, lines } = capturingLogger();
  const journal = await openCdrJournal({ file: join(mnt, "cdr.jsonl"), logger });
  try {
    const acked: string[] = [];
    let rejected: unknown = null;
    for (let i = 0; i < 10_000 && rejected === null; i++) {
      try {
        await journal.append(cdrEntry(`n${i}`));
        acked.push(`n${i}`);
      } catch (err) {
        rejected = err;
      }
    }
    expect(rejected).toMatchObject({ code: "not_writable" });
    expect(acked.length).toBeGreaterThan(10);
    expect(journal.health().writable).toBe(false);
    expect(journal.health().problem).toMatch(/ENOSPC/);
    expect(lines.some((l) => l.level === 50 && /NOT WRITABLE/.test(l.msg))).toBe(true);

    const readIds = async () => {
      const page = await journal.readAfter(null, 100_000);
      return page.map(({ entry }) => (entry.kind === "cdr" ? entry.record.id : "?"));
    };
    expect(await readIds()).toEqual(acked);

    await rm(filler);
    await journal.append(cdrEntry("after-space-freed"));
    expect(journal.health()).toEqual({ writable: true, problem: null });
    expect(await readIds()).toEqual([...acked, "after-space-freed"]);
  } finally {
    await journal.close();
  }
  // Reopening finds a clean journal: no torn or half-written entry was left by the failures.
  const again = await openCdrJournal({ file: join(mnt, "cdr.jsonl") });
  try {
    expect(again.stats.tornTailsRecovered).toBe(0);
    expect(again.stats.corruptLinesSkipped).toBe(0);
  } finally {
    await again.close();
  }
});
