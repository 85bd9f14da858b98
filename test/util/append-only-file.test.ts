// AppendOnlyFile, the all-or-nothing append under the durations and dead-letter files. A failed
// fdatasync is injected on the real FileHandle (a full disk cannot be made on demand): the bytes
// already written must be cut back, so the file holds only acknowledged lines.
import type { FileHandle } from "node:fs/promises";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AppendOnlyFile } from "../../src/util/append-only-file.js";

let dir: string | null = null;
afterEach(async () => {
  vi.restoreAllMocks();
  if (dir !== null) await rm(dir, { recursive: true, force: true });
  dir = null;
});

async function tempFile(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), "dialgate-append-only-"));
  return join(dir, "sub", "lines.jsonl");
}

/** The prototype every FileHandle shares (the class itself is not exported by node:fs). */
async function fileHandlePrototype(file: string): Promise<FileHandle> {
  const fh = await open(file, "r");
  await fh.close();
  return Object.getPrototypeOf(fh) as FileHandle;
}

describe("AppendOnlyFile", () => {
  it("creates the directory and runs each append's callback in write order", async () => {
    const path = await tempFile();
    const file = await AppendOnlyFile.open(path);
    expect(file.size).toBe(0);
    const seen: string[] = [];
    const results = await Promise.all(
      ["a", "b", "c"].map((x) =>
        file.append(`${x}\n`, () => {
          seen.push(x);
          return x.toUpperCase();
        }),
      ),
    );
    expect(results).toEqual(["A", "B", "C"]);
    expect(seen).toEqual(["a", "b", "c"]);
    expect(file.size).toBe(6);
    await file.close();
    expect(await readFile(path, "utf8")).toBe("a\nb\nc\n");
  });

  it("undoes a write whose sync failed, and later appends still go through", async () => {
    const path = await tempFile();
    const file = await AppendOnlyFile.open(path);
    await file.append('{"n":1}\n', () => undefined);
    vi.spyOn(await fileHandlePrototype(path), "datasync").mockRejectedValueOnce(new Error("EIO: i/o error"));
    const onDurable = vi.fn();
    await expect(file.append('{"n":2}\n', onDurable)).rejects.toThrow("EIO");
    expect(onDurable).not.toHaveBeenCalled();
    await file.append('{"n":3}\n', () => undefined);
    await file.close();
    expect(await readFile(path, "utf8")).toBe('{"n":1}\n{"n":3}\n');
  });

  it("opens after the last complete line of a torn file", async () => {
    const path = await tempFile();
    await AppendOnlyFile.open(path).then((f) => f.close());
    await writeFile(path, '{"n":1}\n{"n":');
    const file = await AppendOnlyFile.open(path);
    expect(file.size).toBe(8);
    await file.append('{"n":2}\n', () => undefined);
    await file.close();
    expect(await readFile(path, "utf8")).toBe('{"n":1}\n{"n":2}\n');
  });
});
