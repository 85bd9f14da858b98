// The embedded dead-letter list (webhook-dead-letters.jsonl) after a crash mid-write: the torn
// fragment is cut on open, so the next letter starts on a line of its own and is still there
// after the restart that follows (it was lost when appended onto the fragment).
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type DeadLetter, FileDeadLetterStore } from "../../src/delivery/webhook/delivery-state.js";

let dir: string | null = null;
afterEach(async () => {
  if (dir !== null) await rm(dir, { recursive: true, force: true });
  dir = null;
});

const letter = (ids: string[]): Omit<DeadLetter, "id"> => ({
  carrierId: "fabrikam",
  url: "http://127.0.0.1:9/cdr",
  failedDateTime: "2026-03-01T10:00:00.000Z",
  attempts: 8,
  lastError: "HTTP 503",
  recordIds: ids,
});

describe("FileDeadLetterStore after a torn write", () => {
  it("cuts the torn tail on open, so the next letter survives the following restart", async () => {
    dir = await mkdtemp(join(tmpdir(), "dialgate-dead-letters-"));
    const first = await FileDeadLetterStore.open(dir);
    const kept = await first.add(letter(["cdr-1"]), '{"records":[{"id":"cdr-1"}]}');
    await first.close();
    // A crash in the middle of the next write: half a line, no newline.
    const file = join(dir, "webhook-dead-letters.jsonl");
    const whole = await readFile(file, "utf8");
    await writeFile(file, `${whole}{"id":"torn","carrierId":"fabrikam","recordI`);

    const second = await FileDeadLetterStore.open(dir);
    expect((await second.list("fabrikam")).map((l) => l.id)).toEqual([kept.id]);
    const next = await second.add(letter(["cdr-2", "cdr-3"]), '{"records":[]}');
    await second.close();
    expect(await readFile(file, "utf8")).not.toContain("recordI{");

    const third = await FileDeadLetterStore.open(dir);
    expect(await third.list("fabrikam")).toEqual([
      expect.objectContaining({ id: kept.id, recordIds: ["cdr-1"] }),
      expect.objectContaining({ id: next.id, recordIds: ["cdr-2", "cdr-3"] }),
    ]);
    expect(await third.count("fabrikam")).toBe(2);
    await third.close();
  });

  it("cuts a file that holds only a fragment", async () => {
    dir = await mkdtemp(join(tmpdir(), "dialgate-dead-letters-"));
    const file = join(dir, "webhook-dead-letters.jsonl");
    await writeFile(file, '{"id":"torn"');
    const store = await FileDeadLetterStore.open(dir);
    const added = await store.add(letter(["cdr-9"]), "{}");
    await store.close();
    const again = await FileDeadLetterStore.open(dir);
    expect((await again.list("fabrikam")).map((l) => l.id)).toEqual([added.id]);
    await again.close();
  });
});
