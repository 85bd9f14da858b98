// Carrier durations (batch with good and bad items, idempotency, 413, survival across a restart)
// and reconciliation (every status, totals, tolerance, isolation), over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cdr, FABRIKAM_KEY, type Harness, NORTHWIND_KEY, startHarness } from "./support/carrier-harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

type Reconciliation = {
  calls: {
    correlationId: string;
    status: string;
    dialgateSeconds: number | null;
    carrierSeconds: number | null;
  }[];
  totals: Record<string, number>;
};

const post = (key: string, body: unknown) => h.call("/v1/carrier/durations", key, { method: "POST", body });
const reconcile = async (key: string, q: string) => {
  const r = await h.call(`/v1/carrier/reconciliation?${q}`, key);
  expect(r.status, r.text).toBe(200);
  return r.json() as Reconciliation;
};

describe("POST /v1/carrier/durations", () => {
  it("keeps the good items of a batch and reports each bad one by index with its problems", async () => {
    const r = await post(FABRIKAM_KEY, {
      durations: [
        { correlationId: "d-1", startDateTime: "2026-04-01T10:00:00Z", durationSeconds: 30 },
        { correlationId: "d-2", startDateTime: "2026-04-01T10:01:00Z", durationSeconds: -5 },
        {
          correlationId: "d-3",
          startDateTime: "yesterday",
          durationSeconds: 10,
          calleeNumber: "+14255550100",
        },
        { startDateTime: "2026-04-01T10:03:00Z", durationSeconds: "12", colour: "blue" },
        42,
        {
          correlationId: "d-6",
          startDateTime: "2026-04-01T10:05:00.250+02:00",
          durationSeconds: 12.5,
          callerNumber: "+1",
        },
      ],
    });
    expect(r.status).toBe(200);
    const body = r.json() as { accepted: number; rejected: { index: number; problems: string[] }[] };
    expect(body.accepted).toBe(2);
    expect(body.rejected.map((x) => x.index)).toEqual([1, 2, 3, 4]);
    expect(body.rejected[0]?.problems).toEqual(["durationSeconds: must be >= 0"]);
    expect(body.rejected[1]?.problems[0]).toMatch(/^startDateTime: /);
    const p3 = body.rejected[2]?.problems.join("\n") ?? "";
    expect(p3).toContain("correlationId: must have required property");
    expect(p3).toContain("durationSeconds: must be number");
    expect(p3).toContain("colour: is not a known field");
    expect(body.rejected[3]?.problems).toEqual(["item: must be object"]);
  });

  it("answers 413 for more than 10,000 items and keeps none of them", async () => {
    const durations = Array.from({ length: 10_001 }, (_, i) => ({
      correlationId: `big-${i}`,
      startDateTime: "2026-04-02T10:00:00Z",
      durationSeconds: 1,
    }));
    const r = await post(FABRIKAM_KEY, { durations });
    expect(r.status).toBe(413);
    expect((r.json() as { error: { code: string } }).error.code).toBe("too_large");
    const rec = await reconcile(FABRIKAM_KEY, "from=2026-04-02T00:00:00Z&to=2026-04-03T00:00:00Z");
    expect(rec.totals.calls).toBe(0);
    // Exactly 10,000 is fine.
    const ok = await post(FABRIKAM_KEY, { durations: durations.slice(0, 10_000) });
    expect(ok.status).toBe(200);
    expect((ok.json() as { accepted: number }).accepted).toBe(10_000);
  });

  it("refuses malformed JSON, a wrong shape, unknown top-level fields and a wrong content type", async () => {
    const cases: {
      init: { rawBody?: string; body?: unknown; headers?: Record<string, string> };
      status: number;
      detail?: string;
    }[] = [
      { init: { rawBody: '{"durations": [' }, status: 400, detail: "body: is not valid JSON" },
      { init: { rawBody: "" }, status: 400, detail: "body: is empty" },
      { init: { body: { durations: "many" } }, status: 400, detail: "body.durations: must be array" },
      { init: { body: { items: [] } }, status: 400, detail: "body.durations: must have required property" },
      {
        init: { body: { durations: [], extra: 1 } },
        status: 400,
        detail: "body.extra: is not a known field",
      },
      // Every body is read as JSON whatever its Content-Type (http-server.ts): form data is not JSON.
      {
        init: { rawBody: "durations=1", headers: { "content-type": "application/x-www-form-urlencoded" } },
        status: 400,
        detail: "body: is not valid JSON",
      },
    ];
    for (const c of cases) {
      const r = await h.call("/v1/carrier/durations", FABRIKAM_KEY, { method: "POST", ...c.init });
      expect(r.status, JSON.stringify(c.init)).toBe(c.status);
      const body = r.json() as { error: { code: string; message: string; details: string[] } };
      expect(typeof body.error.code).toBe("string");
      if (c.detail) expect(body.error.details.join("\n")).toContain(c.detail);
      expect(r.text).not.toMatch(/\bat .+:\d+:\d+/);
    }
  });

  it("refuses a compressed body with 415 and Accept-Encoding: identity, and reads an identity one", async () => {
    const rawBody = JSON.stringify({
      durations: [{ correlationId: "ce-1", startDateTime: "2026-04-03T11:00:00Z", durationSeconds: 5 }],
    });
    for (const coding of ["gzip", "br", "identity, gzip"]) {
      const r = await h.call("/v1/carrier/durations", FABRIKAM_KEY, {
        method: "POST",
        rawBody,
        headers: { "content-encoding": coding },
      });
      expect(r.status, coding).toBe(415);
      expect(r.headers.get("accept-encoding")).toBe("identity");
      const body = r.json() as { error: { code: string; details: string[] } };
      expect(body.error.code).toBe("unsupported_media_type");
      expect(body.error.details.join(" ")).toContain("content-encoding:");
    }
    const plain = await h.call("/v1/carrier/durations", FABRIKAM_KEY, {
      method: "POST",
      rawBody,
      headers: { "content-encoding": "identity" },
    });
    expect(plain.status, plain.text).toBe(200);
    expect(plain.json()).toEqual({ accepted: 1, rejected: [] });
    // A request without a body is not refused for the header alone.
    const read = await h.call("/v1/carrier/reconciliation", FABRIKAM_KEY, {
      headers: { "content-encoding": "gzip" },
    });
    expect(read.status, read.text).toBe(200);
  });

  it("answers 413 for a body over the size limit", async () => {
    const r = await h.call("/v1/carrier/durations", FABRIKAM_KEY, {
      method: "POST",
      rawBody: `{"durations": [], "pad": "${"x".repeat(9 * 1024 * 1024)}"}`,
    });
    expect(r.status).toBe(413);
    const body = r.json() as { error: { code: string; details: string[] } };
    expect(body.error.code).toBe("too_large");
    expect(body.error.details.join(" ")).toContain("body: is larger than");
  });

  it("reads a JSON body sent without a JSON Content-Type (fetch's text/plain, curl -d's form type)", async () => {
    const item = { correlationId: "ct-1", startDateTime: "2026-04-03T10:00:00Z", durationSeconds: 5 };
    for (const type of ["text/plain;charset=UTF-8", "application/x-www-form-urlencoded"]) {
      const r = await h.call("/v1/carrier/durations", FABRIKAM_KEY, {
        method: "POST",
        rawBody: JSON.stringify({ durations: [item] }),
        headers: { "content-type": type },
      });
      expect(r.status, type).toBe(200);
      expect(r.json(), type).toEqual({ accepted: 1, rejected: [] });
    }
  });

  it("takes null for the optional numbers of an item, as for absent ones", async () => {
    const r = await post(FABRIKAM_KEY, {
      durations: [
        {
          correlationId: "nl-1",
          startDateTime: "2026-04-06T10:00:00Z",
          durationSeconds: 4,
          calleeNumber: null,
          callerNumber: null,
        },
        { correlationId: "nl-2", startDateTime: "2026-04-06T10:00:00Z", durationSeconds: 4, calleeNumber: 5 },
      ],
    });
    expect(r.json()).toEqual({
      accepted: 1,
      rejected: [{ index: 1, problems: ["calleeNumber: must be string,null"] }],
    });
  });

  it("reads an item's startDateTime without a zone as UTC, and a bare date as midnight UTC", async () => {
    const r = await post(FABRIKAM_KEY, {
      durations: [
        { correlationId: "tz-1", startDateTime: "2026-04-04T10:00:00", durationSeconds: 7 },
        { correlationId: "tz-2", startDateTime: "2026-04-05", durationSeconds: 8 },
        { correlationId: "tz-3", startDateTime: "2026-04-31T10:00:00", durationSeconds: 9 },
      ],
    });
    const body = r.json() as { accepted: number; rejected: { index: number; problems: string[] }[] };
    expect(body.accepted).toBe(2);
    expect(body.rejected).toEqual([{ index: 2, problems: ['startDateTime: must match format "date-time"'] }]);
    const rec = await reconcile(FABRIKAM_KEY, "from=2026-04-04T10:00:00Z&to=2026-04-05T00:00:01Z");
    expect(rec.calls.map((c) => c.correlationId)).toEqual(["tz-1", "tz-2"]);
  });
});

describe("reconciliation", () => {
  const day = "from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z";
  beforeAll(async () => {
    // dialgate's side (fabrikam): matched (60 vs 60.4), mismatch (60 vs 75), missing at carrier,
    // an unanswered call nobody billed (not reported), one northwind call.
    await h.append(
      cdr(["fabrikam"], { correlationId: "m-1", inviteDateTime: "2026-05-01T09:00:00.000Z", duration: 60 }),
    );
    await h.append(
      cdr(["fabrikam"], { correlationId: "x-1", inviteDateTime: "2026-05-01T09:10:00.000Z", duration: 60 }),
    );
    await h.append(
      cdr(["fabrikam"], { correlationId: "c-1", inviteDateTime: "2026-05-01T09:20:00.000Z", duration: 42 }),
    );
    await h.append(
      cdr(["fabrikam"], {
        correlationId: "u-1",
        inviteDateTime: "2026-05-01T09:30:00.000Z",
        duration: 0,
        successfulCall: false,
        finalSipCode: 486,
      }),
    );
    await h.append(
      cdr(["northwind"], { correlationId: "n-1", inviteDateTime: "2026-05-01T09:40:00.000Z", duration: 33 }),
    );
    // Outside the window by dialgate's time, though the carrier stamped it inside: counted in
    // the window of dialgate's inviteDateTime, not this one.
    await h.append(
      cdr(["fabrikam"], { correlationId: "b-1", inviteDateTime: "2026-04-30T23:59:50.000Z", duration: 20 }),
    );
    const r = await post(FABRIKAM_KEY, {
      durations: [
        { correlationId: "m-1", startDateTime: "2026-05-01T09:00:01Z", durationSeconds: 60.4 },
        { correlationId: "x-1", startDateTime: "2026-05-01T09:10:01Z", durationSeconds: 75 },
        { correlationId: "g-1", startDateTime: "2026-05-01T09:50:00Z", durationSeconds: 18 },
        { correlationId: "b-1", startDateTime: "2026-05-01T00:00:05Z", durationSeconds: 20 },
        // Another carrier's call id, claimed by fabrikam: stays missing at dialgate for fabrikam.
        { correlationId: "n-1", startDateTime: "2026-05-01T09:40:01Z", durationSeconds: 33 },
      ],
    });
    expect((r.json() as { accepted: number }).accepted).toBe(5);
  });

  it("reports matched, mismatch, missingAtCarrier and missingAtDialgate with totals", async () => {
    const rec = await reconcile(FABRIKAM_KEY, day);
    expect(rec.calls).toEqual([
      { correlationId: "m-1", status: "matched", dialgateSeconds: 60, carrierSeconds: 60.4 },
      { correlationId: "x-1", status: "mismatch", dialgateSeconds: 60, carrierSeconds: 75 },
      { correlationId: "c-1", status: "missingAtCarrier", dialgateSeconds: 42, carrierSeconds: null },
      { correlationId: "n-1", status: "missingAtDialgate", dialgateSeconds: null, carrierSeconds: 33 },
      { correlationId: "g-1", status: "missingAtDialgate", dialgateSeconds: null, carrierSeconds: 18 },
    ]);
    expect(rec.totals).toEqual({
      calls: 5,
      matched: 1,
      mismatch: 1,
      missingAtCarrier: 1,
      missingAtDialgate: 2,
      dialgateSeconds: 162,
      carrierSeconds: 186.4,
    });
    const before = await reconcile(FABRIKAM_KEY, "from=2026-04-30T00:00:00Z&to=2026-05-01T00:00:00Z");
    expect(before.calls).toEqual([
      { correlationId: "b-1", status: "matched", dialgateSeconds: 20, carrierSeconds: 20 },
    ]);
  });

  it("applies toleranceSeconds", async () => {
    const strict = await reconcile(FABRIKAM_KEY, `${day}&toleranceSeconds=0`);
    expect(strict.calls.find((c) => c.correlationId === "m-1")?.status).toBe("mismatch");
    const loose = await reconcile(FABRIKAM_KEY, `${day}&toleranceSeconds=20`);
    expect(loose.calls.find((c) => c.correlationId === "x-1")?.status).toBe("matched");
  });

  it("is idempotent per correlationId: a re-sent duration replaces the earlier one", async () => {
    await post(FABRIKAM_KEY, {
      durations: [{ correlationId: "x-1", startDateTime: "2026-05-01T09:10:01Z", durationSeconds: 60 }],
    });
    const rec = await reconcile(FABRIKAM_KEY, day);
    expect(rec.calls.find((c) => c.correlationId === "x-1")).toEqual({
      correlationId: "x-1",
      status: "matched",
      dialgateSeconds: 60,
      carrierSeconds: 60,
    });
    expect(rec.totals.calls).toBe(5);
  });

  it("shows each carrier only its own side", async () => {
    const rec = await reconcile(NORTHWIND_KEY, day);
    expect(rec.calls).toEqual([
      { correlationId: "n-1", status: "missingAtCarrier", dialgateSeconds: 33, carrierSeconds: null },
    ]);
  });

  it("keeps accepted durations across a restart", async () => {
    const before = await reconcile(FABRIKAM_KEY, day);
    await h.restart();
    const after = await reconcile(FABRIKAM_KEY, day);
    expect(after).toEqual(before);
    expect(after.calls.find((c) => c.correlationId === "x-1")?.carrierSeconds).toBe(60);
  });

  it("takes open bounds and any window length, as GET /v1/carrier/cdrs does", async () => {
    const all = await reconcile(FABRIKAM_KEY, "");
    const ids = all.calls.map((c) => c.correlationId);
    for (const id of ["b-1", "m-1", "x-1", "c-1", "g-1"]) expect(ids).toContain(id);
    expect(all.totals.calls).toBe(all.calls.length);
    const untilDay = await reconcile(FABRIKAM_KEY, "to=2026-05-01T00:00:00Z");
    expect(untilDay.calls.map((c) => c.correlationId)).toContain("b-1");
    expect(untilDay.calls.map((c) => c.correlationId)).not.toContain("m-1");
    const wide = await reconcile(FABRIKAM_KEY, "from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z");
    expect(wide).toEqual(all);
    const blank = await reconcile(FABRIKAM_KEY, "from=&to=&toleranceSeconds=");
    expect(blank).toEqual(all);
  });

  it("matches a difference equal to the tolerance despite binary fractions", async () => {
    await h.append(
      cdr(["fabrikam"], { correlationId: "eps-1", inviteDateTime: "2026-05-03T09:00:00.000Z", duration: 10 }),
    );
    await post(FABRIKAM_KEY, {
      durations: [{ correlationId: "eps-1", startDateTime: "2026-05-03T09:00:00Z", durationSeconds: 9.7 }],
    });
    const rec = await reconcile(
      FABRIKAM_KEY,
      "from=2026-05-03T00:00:00Z&to=2026-05-04T00:00:00Z&toleranceSeconds=0.3",
    );
    expect(rec.calls).toEqual([
      { correlationId: "eps-1", status: "matched", dialgateSeconds: 10, carrierSeconds: 9.7 },
    ]);
  });

  it("refuses a reversed window, a bad tolerance and unknown parameters", async () => {
    const cases: [string, string][] = [
      ["from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z", "querystring.to"],
      [`${day}&toleranceSeconds=-1`, "querystring.toleranceSeconds"],
      [`${day}&toleranceSeconds=soon`, "querystring.toleranceSeconds"],
      ["from=2026-02-30T00:00:00Z", "querystring.from"],
      [`${day}&carrier=northwind`, "querystring.carrier"],
    ];
    for (const [q, path] of cases) {
      const r = await h.call(`/v1/carrier/reconciliation?${q}`, FABRIKAM_KEY);
      expect(r.status, q).toBe(400);
      expect((r.json() as { error: { details: string[] } }).error.details.join(" "), q).toContain(path);
    }
  });
});
