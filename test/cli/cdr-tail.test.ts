// `dialgate cdr tail` as operators run it: the built binary reading a journal that this test
// writes (as `dialgate serve` would), as a table, as JSON lines, and followed.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CallRecord } from "../../src/calls/call-record.js";
import { type CdrJournal, openCdrJournal } from "../../src/store/cdr-journal/index.js";
import { amendmentEntry, makeRecord, quality } from "../store/support/cdr-fixtures.js";
import { waitFor } from "../support/free-port.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "dist/src/cli/main.js");

let dir: string;
let configFile: string;
let journal: CdrJournal;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "dialgate-tail-"));
  configFile = join(dir, "dialgate.yaml");
  writeFileSync(
    configFile,
    `sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }]
  recordRouteHost: 127.0.0.1
cdr: { file: ${join(dir, "var", "cdr.jsonl")} }
`,
  );
  journal = await openCdrJournal({ file: join(dir, "var", "cdr.jsonl") });
});

afterEach(async () => {
  await journal.close();
});

function tail(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, "cdr", "tail", "--config", configFile, ...args], {
    encoding: "utf8",
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function record(id: string, minute: number, extra: Partial<CallRecord> = {}): CallRecord {
  return { ...makeRecord(id, Date.UTC(2026, 0, 1, 12, minute, 0)), ...extra };
}

describe("dialgate cdr tail", () => {
  it("prints the latest CDRs as a table, oldest first", async () => {
    await journal.append({ kind: "cdr", record: record("11111111-0000-4000-8000-000000000001", 1) });
    await journal.append({
      kind: "cdr",
      record: record("11111111-0000-4000-8000-000000000002", 2, {
        successfulCall: false,
        duration: 0,
        finalSipCode: 486,
        finalSipCodePhrase: "Busy Here",
        endedBy: "callee",
        userDisplayName: "Mallory\u001b[2J",
        userPrincipalName: "mallory\u001b[31m@contoso.com",
      }),
    });
    await journal.append({ kind: "cdr", record: record("11111111-0000-4000-8000-000000000003", 3) });
    const r = tail("--limit", "2");
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^INVITE \(UTC\)\s+TYPE\s+CALLER\s+CALLEE\s+USER\s+TRUNK\s+CODE\s+RESULT/);
    expect(lines[1]).toContain("2026-01-01 12:02:00.000");
    expect(lines[1]).toMatch(/486\s+Busy Here\s+-\s+callee/);
    expect(lines[1]).toContain("11111111-0000-4000-8000-000000000002");
    expect(lines[1]).not.toContain("\u001b"); // no terminal escapes from the network
    expect(lines[2]).toMatch(
      /\+14255550100\s+\+14255550123\s+alice@contoso\.com\s+sbc1\.contoso\.com\s+200\s+OK\s+60s\s+caller/,
    );
  });

  it("prints JSON lines, with a late quality report merged into its CDR", async () => {
    const first = record("22222222-0000-4000-8000-000000000001", 1);
    await journal.append({ kind: "cdr", record: first });
    await journal.append({ kind: "cdr", record: record("22222222-0000-4000-8000-000000000002", 2) });
    await journal.append(amendmentEntry(first, quality("alice", 4.2)));
    const r = tail("--json");
    expect(r.code).toBe(0);
    const records = r.out
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as CallRecord);
    expect(records.map((x) => [x.id, x.revision])).toEqual([
      [first.id, 1],
      ["22222222-0000-4000-8000-000000000002", 1],
      [first.id, 2],
    ]);
    expect(records[2]?.quality?.caller?.mosLq).toBe(4.2);
  });

  it("prints only the header for an empty journal, and refuses a bad --limit", () => {
    const r = tail();
    expect(r.code).toBe(0);
    expect(r.out.trimEnd().split("\n")).toHaveLength(1);
    const bad = tail("--limit", "lots");
    expect(bad.code).toBe(64);
    expect(bad.err).toContain("--limit");
  });

  it("follows new CDRs as they are committed, until interrupted", async () => {
    await journal.append({ kind: "cdr", record: record("33333333-0000-4000-8000-000000000001", 1) });
    const child = spawn(
      process.execPath,
      [bin, "cdr", "tail", "--config", configFile, "--follow", "--json"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await waitFor(() => out.includes("33333333-0000-4000-8000-000000000001"), 15_000, "the first CDR");
    await journal.append({ kind: "cdr", record: record("33333333-0000-4000-8000-000000000002", 2) });
    await journal.append({ kind: "cdr", record: record("33333333-0000-4000-8000-000000000003", 3) });
    await waitFor(() => out.includes("33333333-0000-4000-8000-000000000003"), 15_000, "the followed CDRs");
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const ids = out
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as CallRecord).id);
    expect(ids).toEqual([
      "33333333-0000-4000-8000-000000000001",
      "33333333-0000-4000-8000-000000000002",
      "33333333-0000-4000-8000-000000000003",
    ]);
  });
});
