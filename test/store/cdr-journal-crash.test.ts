// Crash safety with a real process: a child appends CDRs and prints each one the journal
// acknowledged; it is SIGKILLed mid-stream (with writes in flight, across rotations). After
// reopening, every acknowledged entry is there exactly once. Uses the built journal (dist/),
// which `npm test` builds first.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { openCdrJournal } from "../../src/store/cdr-journal/index.js";
import { waitFor } from "../support/free-port.js";

const child = new URL("./support/journal-appender.mjs", import.meta.url).pathname;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "dialgate-crash-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("keeps every acknowledged entry, exactly once, after SIGKILL", async () => {
  expect(
    existsSync(new URL("../../dist/src/store/cdr-journal/index.js", import.meta.url)),
    "run npm run build",
  ).toBe(true);
  const file = join(dir, "cdr.jsonl");
  const proc = spawn(process.execPath, [child, file, "65536"], { stdio: ["ignore", "pipe", "inherit"] });
  const acked: string[] = [];
  let buffered = "";
  proc.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    acked.push(...lines);
  });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  await waitFor(() => acked.length >= 3000, 60_000, "3000 acknowledged appends");
  proc.kill("SIGKILL");
  await exited;
  acked.push(...buffered.split("\n").filter((l) => /^k\d+$/.test(l)));

  const journal = await openCdrJournal({ file, segmentBytes: 65536 });
  try {
    const seen = new Map<string, number>();
    let after: string | null = null;
    for (;;) {
      const page = await journal.readAfter(after, 1000);
      if (page.length === 0) break;
      for (const { entry } of page)
        if (entry.kind === "cdr") seen.set(entry.record.id, (seen.get(entry.record.id) ?? 0) + 1);
      after = page[page.length - 1]?.position ?? null;
    }
    const missing = acked.filter((id) => !seen.has(id));
    expect(missing).toEqual([]);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(journal.stats.entriesWritten).toBe(0);
    // The reopened journal takes new writes after the crash.
    await journal.append({ kind: "cdr", record: { ...(await firstRecord(journal)), id: "after-crash" } });
    expect(await journal.findById("after-crash")).not.toBeNull();
  } finally {
    await journal.close();
  }
});

async function firstRecord(journal: Awaited<ReturnType<typeof openCdrJournal>>) {
  const [first] = await journal.readAfter(null, 1);
  if (first?.entry.kind !== "cdr") throw new Error("no record");
  return first.entry.record;
}
