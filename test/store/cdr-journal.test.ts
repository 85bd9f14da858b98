// The embedded CDR journal on real files in a temp directory: group commit, rotation and the
// index, paging, torn-line recovery, forged positions, amendments, unwritable locations.
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyAmendment } from "../../src/calls/amend.js";
import type { CdrLogEntry } from "../../src/calls/call-record.js";
import { type CdrJournal, openCdrJournal } from "../../src/store/cdr-journal/index.js";
import { amendmentEntry, capturingLogger, cdrEntry, makeRecord, quality } from "./support/cdr-fixtures.js";

let dir: string;
const open: CdrJournal[] = [];

async function journal(options: Partial<Parameters<typeof openCdrJournal>[0]> = {}): Promise<CdrJournal> {
  const j = await openCdrJournal({ file: join(dir, "cdr.jsonl"), ...options });
  open.push(j);
  return j;
}

function ids(entries: readonly { entry: CdrLogEntry }[]): string[] {
  return entries.map(({ entry }) => (entry.kind === "cdr" ? entry.record.id : `q:${entry.amendment.cdrId}`));
}

async function readAll(j: CdrJournal, pageSize = 1000): Promise<string[]> {
  const out: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await j.readAfter(after, pageSize);
    if (page.length === 0) return out;
    out.push(...ids(page));
    after = page[page.length - 1]?.position ?? null;
  }
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "dialgate-journal-"));
});

afterEach(async () => {
  for (const j of open.splice(0)) await j.close();
  await rm(dir, { recursive: true, force: true });
});

describe("CDR journal", () => {
  it("acknowledges an entry with a position and reads it back after reopening", async () => {
    const j = await journal();
    const position = await j.append(cdrEntry("a"));
    expect(j.isValidPosition(position)).toBe(true);
    expect(ids(await j.readAfter(null, 10))).toEqual(["a"]);
    expect(await j.readAfter(position, 10)).toEqual([]);
    await j.close();
    const again = await journal();
    const page = await again.readAfter(null, 10);
    expect(page).toHaveLength(1);
    expect(page[0]?.position).toBe(position);
    expect(page[0]?.entry).toEqual(cdrEntry("a"));
    expect(again.health()).toEqual({ writable: true, problem: null });
  });

  it("commits many concurrent appends with far fewer fsyncs (group commit)", async () => {
    const j = await journal();
    const n = 500;
    const positions = await Promise.all(Array.from({ length: n }, (_, i) => j.append(cdrEntry(`c${i}`))));
    expect(new Set(positions).size).toBe(n);
    expect([...positions].sort()).toEqual(positions); // resolved in commit order = append order
    expect(j.stats.entriesWritten).toBe(n);
    expect(j.stats.fsyncs).toBeGreaterThan(0);
    expect(j.stats.fsyncs).toBeLessThan(n / 10);
    expect(await readAll(j)).toEqual(Array.from({ length: n }, (_, i) => `c${i}`));
  });

  it("spaces commits by commitIntervalMs: entries that trickle in after a commit share the next fsync", async () => {
    const j = await journal({ commitIntervalMs: 300 });
    await j.append(cdrEntry("first"));
    expect(j.stats.fsyncs).toBe(1);
    // One entry per event-loop turn, each after the last commit: back to back, each would get
    // its own fsync; inside the interval they wait and go together.
    const trickle: Promise<string>[] = [];
    for (let i = 0; i < 5; i++) {
      trickle.push(j.append(cdrEntry(`t${i}`)));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(trickle);
    expect(j.stats.fsyncs).toBe(2);
    expect(await readAll(j)).toEqual(["first", "t0", "t1", "t2", "t3", "t4"]);
  });

  it("commits back to back with commitIntervalMs 0", async () => {
    const j = await journal({ commitIntervalMs: 0 });
    await j.append(cdrEntry("first"));
    const trickle: Promise<string>[] = [];
    for (let i = 0; i < 3; i++) {
      trickle.push(j.append(cdrEntry(`t${i}`)));
      // Past the commit in flight: a fresh fsync each time.
      await trickle[i];
    }
    expect(j.stats.fsyncs).toBe(4);
  });

  it("reports each group commit to listeners and wakes waitForCommit", async () => {
    const j = await journal();
    const commits: number[] = [];
    j.onCommit((info) => commits.push(info.entries));
    const waiting = j.waitForCommit(null);
    await Promise.all([j.append(cdrEntry("w1")), j.append(cdrEntry("w2"))]);
    expect(await waiting).toBe(true);
    expect(commits.reduce((a, b) => a + b, 0)).toBe(2);
    const last = j.lastPosition();
    expect(await j.waitForCommit(last, { timeoutMs: 20 })).toBe(false);
    const next = j.waitForCommit(last);
    await j.append(cdrEntry("w3"));
    expect(await next).toBe(true);
  });

  it("rotates by size, indexes each segment, and pages across segments", async () => {
    const j = await journal({ segmentBytes: 4096 });
    const base = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 60; i++) await j.append(cdrEntry(`r${i}`, base + i * 60_000));
    const names = (await readdir(dir)).sort();
    const segments = names.filter((n) => /^cdr\.\d{8}\.jsonl$/.test(n));
    expect(segments.length).toBeGreaterThan(3);
    expect(names).toContain("cdr.index.json");
    const index = JSON.parse(await readFile(join(dir, "cdr.index.json"), "utf8")) as {
      segments: {
        segment: number;
        count: number;
        firstPosition: string;
        lastPosition: string;
        minInvite: number;
      }[];
    };
    expect(index.segments.length).toBe(segments.length - 1); // all but the active one
    const sealedCount = index.segments.reduce((a, s) => a + s.count, 0);
    expect(sealedCount).toBeGreaterThan(0);
    for (const s of index.segments) expect(s.firstPosition <= s.lastPosition).toBe(true);

    const expected = Array.from({ length: 60 }, (_, i) => `r${i}`);
    expect(await readAll(j, 7)).toEqual(expected);
    // Reopen: sealed segments come from the index, the active one is rescanned.
    await j.close();
    const again = await journal({ segmentBytes: 4096 });
    expect(await readAll(again, 13)).toEqual(expected);
    // A time filter skips segments and entries outside [from, to).
    const page = await again.readAfter(null, 100, {
      inviteFrom: base + 20 * 60_000,
      inviteTo: base + 30 * 60_000,
    });
    expect(ids(page)).toEqual(expected.slice(20, 30));
  });

  it("rebuilds a missing or damaged index from the segments", async () => {
    const j = await journal({ segmentBytes: 2048 });
    for (let i = 0; i < 30; i++) await j.append(cdrEntry(`x${i}`));
    await j.close();
    await writeFile(join(dir, "cdr.index.json"), "{ not json");
    const again = await journal({ segmentBytes: 2048 });
    expect(await readAll(again, 4)).toEqual(Array.from({ length: 30 }, (_, i) => `x${i}`));
    await again.append(cdrEntry("x30"));
    expect((await readAll(again)).at(-1)).toBe("x30");
  });

  it("sets a torn last line aside on open, with a warning, and keeps working", async () => {
    const j = await journal();
    await j.append(cdrEntry("t1"));
    await j.append(cdrEntry("t2"));
    await j.close();
    const active = join(dir, "cdr.00000001.jsonl");
    const torn = JSON.stringify(cdrEntry("t3")).slice(0, 57); // a crash in the middle of a write
    await appendFile(active, torn);
    const { logger, lines } = capturingLogger();
    const again = await journal({ logger });
    expect(lines.some((l) => l.level === 40 && /torn/.test(l.msg))).toBe(true);
    expect(await readFile(`${active}.torn`, "utf8")).toBe(`${torn}\n`);
    expect(await readAll(again)).toEqual(["t1", "t2"]);
    expect(again.stats.tornTailsRecovered).toBe(1);
    await again.append(cdrEntry("t4"));
    expect(await readAll(again)).toEqual(["t1", "t2", "t4"]);
    expect((await readFile(active, "utf8")).endsWith("\n")).toBe(true);
  });

  it("skips a damaged complete line without losing the entries around it", async () => {
    const j = await journal();
    await j.append(cdrEntry("d1"));
    await j.close();
    await appendFile(join(dir, "cdr.00000001.jsonl"), '{"kind":"cdr","record":\n');
    const again = await journal();
    await again.append(cdrEntry("d2"));
    expect(await readAll(again)).toEqual(["d1", "d2"]);
    expect(again.stats.corruptLinesSkipped).toBeGreaterThan(0);
  });

  it("refuses positions it did not produce", async () => {
    const j = await journal({ segmentBytes: 1024 });
    const p1 = await j.append(cdrEntry("p1"));
    const p2 = await j.append(cdrEntry("p2"));
    expect(j.isValidPosition(p1)).toBe(true);
    expect(j.isValidPosition(p2)).toBe(true);
    expect(j.isValidPosition("00000001:000000000000")).toBe(true); // the start
    const [seg, off] = p1.split(":");
    const mid = `${seg}:${String(Number(off) - 5).padStart(12, "0")}`;
    expect(j.isValidPosition(mid)).toBe(false); // inside an entry
    expect(j.isValidPosition(`${seg}:999999999999`)).toBe(false); // beyond the end
    expect(j.isValidPosition("00000099:000000000000")).toBe(false); // no such segment
    expect(j.isValidPosition("garbage")).toBe(false);
    expect(j.isValidPosition("1:5")).toBe(false);
    await expect(j.readAfter(mid, 10)).rejects.toMatchObject({ code: "invalid_position" });
  });

  it("finds a CDR by id with its late quality reports merged", async () => {
    const j = await journal({ segmentBytes: 1500 });
    const record = makeRecord("q1");
    await j.append({ kind: "cdr", record });
    for (let i = 0; i < 5; i++) await j.append(cdrEntry(`other${i}`));
    await j.append(amendmentEntry(record, quality("alice", 4.1)));
    await j.append(cdrEntry("other-last"));
    await j.append(amendmentEntry(record, quality("alice-final", 4.3)));
    const found = await j.findById("q1");
    expect(found?.revision).toBe(3);
    expect(found?.quality?.caller?.reporter).toBe("alice-final");
    expect(found?.quality?.callee).toBeNull();
    expect(found?.calleeNumber).toBe(record.calleeNumber);
    expect(await j.findById("other3")).toEqual(makeRecord("other3"));
    expect(await j.findById("nope")).toBeNull();
  });

  it("reports an unwritable location through health() and rejects appends, without throwing", async () => {
    await writeFile(join(dir, "not-a-dir"), "x");
    const { logger, lines } = capturingLogger();
    const j = await openCdrJournal({ file: join(dir, "not-a-dir", "cdr.jsonl"), logger });
    open.push(j);
    const health = j.health();
    expect(health.writable).toBe(false);
    expect(health.problem).toMatch(/ENOTDIR|EEXIST/);
    expect(lines.some((l) => l.level === 50)).toBe(true);
    await expect(j.append(cdrEntry("u1"))).rejects.toMatchObject({ code: "not_writable" });
    expect(await j.readAfter(null, 10)).toEqual([]);
  });

  it("lets only one writer hold a journal, and takes over once it is released", async () => {
    const first = await journal();
    await first.append(cdrEntry("o1"));
    let now = 0;
    const clock = { now: () => Date.now(), monotonic: () => now };
    const second = await journal({ clock });
    expect(second.health().writable).toBe(false);
    expect(second.health().problem).toMatch(/in use by/);
    await expect(second.append(cdrEntry("o2"))).rejects.toMatchObject({ code: "not_writable" });
    expect(ids(await second.readAfter(null, 10))).toEqual(["o1"]); // reads still work
    await first.close();
    now += 10_000; // past the retry interval
    await second.append(cdrEntry("o3"));
    expect(second.health()).toEqual({ writable: true, problem: null });
    expect(await readAll(second)).toEqual(["o1", "o3"]);
  });

  it("read-only mode follows another writer without touching its files", async () => {
    const writer = await journal();
    await writer.append(cdrEntry("f1"));
    // A write in progress (no newline yet) must not be "recovered" by a reader.
    const reader = await journal({ readOnly: true, pollIntervalMs: 10 });
    expect(ids(await reader.readLast(10))).toEqual(["f1"]);
    const last = reader.lastPosition();
    const waiting = reader.waitForCommit(last);
    await writer.append(cdrEntry("f2"));
    expect(await waiting).toBe(true);
    expect(ids(await reader.readAfter(last, 10))).toEqual(["f2"]);
    await expect(reader.append(cdrEntry("nope"))).rejects.toMatchObject({ code: "read_only" });
  });

  it("readLast returns the newest entries across segments, oldest first", async () => {
    const j = await journal({ segmentBytes: 2048 });
    for (let i = 0; i < 25; i++) await j.append(cdrEntry(`l${i}`));
    expect(ids(await j.readLast(12))).toEqual(Array.from({ length: 12 }, (_, i) => `l${i + 13}`));
    expect(ids(await j.readLast(100))).toHaveLength(25);
  });

  it("flushes pending appends on close", async () => {
    const j = await journal();
    const pending = Array.from({ length: 50 }, (_, i) => j.append(cdrEntry(`s${i}`)));
    await j.close();
    expect(await Promise.all(pending)).toHaveLength(50);
    await expect(j.append(cdrEntry("late"))).rejects.toMatchObject({ code: "closed" });
    const again = await journal();
    expect(await readAll(again)).toHaveLength(50);
  });
});

describe("applyAmendment", () => {
  it("bumps the revision and replaces quality per direction", () => {
    const record = { ...makeRecord("m1"), quality: quality("alice", 3.9) };
    const calleeOnly = { caller: null, callee: quality("sbc1", 4.2).caller };
    const merged = applyAmendment(record, {
      cdrId: "m1",
      correlationId: record.correlationId,
      receivedDateTime: "2026-01-01T12:02:00.000Z",
      quality: calleeOnly,
    });
    expect(merged.revision).toBe(2);
    expect(merged.quality?.caller?.mosLq).toBe(3.9);
    expect(merged.quality?.callee?.reporter).toBe("sbc1");
    expect(record.revision).toBe(1); // pure
  });

  it("leaves another record unchanged", () => {
    const record = makeRecord("m2");
    const other = makeRecord("m3");
    const entry = amendmentEntry(other, quality("x", 4));
    if (entry.kind !== "quality") throw new Error("fixture");
    expect(applyAmendment(record, entry.amendment)).toBe(record);
  });
});
