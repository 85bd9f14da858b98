// The pure parts of the carrier API: reconciliation rules, retry delays, the webhook signature,
// CSV quoting and defusing, and the durations file's crash handling.
import { appendFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { csvHeader, csvRow } from "../../src/api/carrier/csv.js";
import type { CarrierDuration } from "../../src/calls/duration-store.js";
import { reconcile } from "../../src/calls/reconciliation.js";
import { retryDelayMs } from "../../src/delivery/webhook/backoff.js";
import { signatureHeader, verifySignature } from "../../src/delivery/webhook/signature.js";
import { FileDurationStore } from "../../src/store/durations/file-duration-store.js";
import { seededRandom } from "../../src/util/clock.js";
import { makeRecord } from "../store/support/cdr-fixtures.js";

const duration = (
  correlationId: string,
  startDateTime: string,
  durationSeconds: number,
): CarrierDuration => ({
  correlationId,
  startDateTime,
  startMs: Date.parse(startDateTime),
  durationSeconds,
  calleeNumber: null,
  callerNumber: null,
  receivedDateTime: "2026-01-01T00:00:00.000Z",
});

describe("reconcile", () => {
  const from = Date.parse("2026-01-01T00:00:00Z");
  const to = Date.parse("2026-01-02T00:00:00Z");
  it("adds up CDRs of one Call-ID, counts each id once, and compares within the tolerance (inclusive)", () => {
    const a = { ...makeRecord("a", Date.parse("2026-01-01T10:00:00Z")), correlationId: "k", duration: 30 };
    const b = { ...makeRecord("b", Date.parse("2026-01-01T10:01:00Z")), correlationId: "k", duration: 12 };
    const r = reconcile({
      records: [a, b, { ...a, revision: 2 }],
      durations: [duration("k", "2026-01-01T10:00:02Z", 43)],
      fromMs: from,
      toMs: to,
      toleranceSeconds: 1,
    });
    expect(r.calls).toEqual([
      { correlationId: "k", status: "matched", dialgateSeconds: 42, carrierSeconds: 43 },
    ]);
  });

  it("compares a carrier duration for a call dialgate saw unanswered against 0 s", () => {
    const failed = {
      ...makeRecord("f", Date.parse("2026-01-01T11:00:00Z")),
      correlationId: "f",
      duration: 0,
      successfulCall: false,
    };
    const r = reconcile({
      records: [failed],
      durations: [duration("f", "2026-01-01T11:00:00Z", 5)],
      fromMs: from,
      toMs: to,
      toleranceSeconds: 1,
    });
    expect(r.calls).toEqual([
      { correlationId: "f", status: "mismatch", dialgateSeconds: 0, carrierSeconds: 5 },
    ]);
    expect(
      reconcile({ records: [failed], durations: [], fromMs: from, toMs: to, toleranceSeconds: 1 }).calls,
    ).toEqual([]);
  });
});

describe("retryDelayMs", () => {
  it("grows exponentially, stays within [half, full] of the step, and is capped", () => {
    const random = seededRandom(42);
    const policy = { baseMs: 1000, maxMs: 300_000 };
    for (let attempt = 1; attempt <= 12; attempt++) {
      const step = Math.min(policy.maxMs, 1000 * 2 ** (attempt - 1));
      const d = retryDelayMs(attempt, policy, random);
      expect(d).toBeGreaterThanOrEqual(step / 2);
      expect(d).toBeLessThanOrEqual(step);
    }
    expect(retryDelayMs(1, policy, () => 0)).toBe(500);
    expect(retryDelayMs(100, policy, () => 0.999_999)).toBeLessThanOrEqual(300_000);
  });
});

describe("webhook signature", () => {
  it("is HMAC-SHA256 over '<t>.<raw body>' and verifies only with the same secret, body and a fresh t", () => {
    const body = '{"records":[]}';
    const header = signatureHeader("s", 1_700_000_000, body);
    // printf '1700000000.{"records":[]}' | openssl dgst -sha256 -hmac s
    expect(header).toBe("t=1700000000,v1=0096d07d070adf6749b8605de41a90c8671af345dbbbd7fcbf341b93ff911697");
    expect(verifySignature(header, body, "s", 1_700_000_100)).toEqual({ ok: true, timestamp: 1_700_000_000 });
    expect(verifySignature(header, body, "t", 1_700_000_100)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifySignature(header, `${body} `, "s", 1_700_000_100).ok).toBe(false);
    expect(verifySignature(header, body, "s", 1_700_000_301)).toEqual({ ok: false, reason: "too_old" });
    expect(verifySignature("t=1,v1=zz", body, "s", 1)).toEqual({ ok: false, reason: "malformed" });
  });
});

describe("CSV", () => {
  it("quotes per RFC 4180, writes null as empty and JSON columns as JSON, defuses formulas but not E.164", () => {
    const r = {
      ...makeRecord("c1"),
      userDisplayName: '=HYPERLINK("x")',
      dialedNumber: "+14255550100",
      calleeNumber: "-2+3",
      matchingRule: "a,b",
      failureDateTime: null,
    };
    const header = csvHeader().trim().split(",");
    const row = csvRow(r);
    expect(row.endsWith("\r\n")).toBe(true);
    expect(header).toContain("attempts");
    expect(row).toContain(`"'=HYPERLINK(""x"")"`);
    expect(row).toContain(",+14255550100,");
    expect(row).toContain(",'-2+3,");
    expect(row).toContain(',"a,b",');
    expect(row).toContain(`"${JSON.stringify(r.attempts).replaceAll('"', '""')}"`);
  });
});

describe("FileDurationStore", () => {
  it("cuts a torn last line on open and keeps every acknowledged batch", async () => {
    const dir = await mkdtemp(join(tmpdir(), "dialgate-durations-"));
    try {
      const file = join(dir, "durations.jsonl");
      const s1 = await FileDurationStore.open(file);
      await s1.put("fab", [
        duration("a", "2026-01-01T00:00:00Z", 1),
        duration("b", "2026-01-01T00:01:00Z", 2),
      ]);
      await s1.put("fab", [duration("a", "2026-01-01T00:00:00Z", 3)]);
      await s1.close();
      // A crash in the middle of the next batch's write.
      await appendFile(file, '{"carrierId":"fab","correlationId":"c","startDate');
      const s2 = await FileDurationStore.open(file);
      const all = await s2.inRange("fab", 0, Number.MAX_SAFE_INTEGER);
      expect(all.map((d) => [d.correlationId, d.durationSeconds]).sort()).toEqual([
        ["a", 3],
        ["b", 2],
      ]);
      await s2.put("fab", [duration("c", "2026-01-01T00:02:00Z", 4)]);
      await s2.close();
      expect((await readFile(file, "utf8")).split("\n").filter((l) => l !== "").length).toBe(4);
      const s3 = await FileDurationStore.open(file);
      expect((await s3.inRange("fab", 0, Number.MAX_SAFE_INTEGER)).length).toBe(3);
      expect(await s3.inRange("other", 0, Number.MAX_SAFE_INTEGER)).toEqual([]);
      await s3.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
