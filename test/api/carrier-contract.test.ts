// The carrier API read the way an outside carrier reads carrier-api.md's wire contract: a late
// quality report shows up once, on its record (pull, CSV); the CSV columns are exactly the CDR
// table's field names; JSON and CSV carry the same attempts; every refusal is the contract's error
// shape with the path of the problem, even the ones the router raises; and the query values
// carriers' tools commonly send (empty parameters, dates without a zone) are read as meant.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallRecord } from "../../src/calls/call-record.js";
import { amendmentEntry, quality } from "../store/support/cdr-fixtures.js";
import { cdr, FABRIKAM_KEY, type Harness, NORTHWIND_KEY, startHarness } from "./support/carrier-harness.js";
import { parseCsv } from "./support/csv.js";

let h: Harness;
type Page = { records: CallRecord[]; nextCursor: string | null };
type ErrorBody = { error: { code: string; message: string; details: string[] } };

/** carrier-api.md "The CDR", in the table's order. */
const CDR_TABLE_FIELDS = [
  "id",
  "correlationId",
  "tenantId",
  "userId",
  "userPrincipalName",
  "userDisplayName",
  "callType",
  "callerNumber",
  "calleeNumber",
  "dialedNumber",
  "matchingRule",
  "effectiveTenantDialPlanName",
  "voiceRoute",
  "pstnUsage",
  "trunkFullyQualifiedDomainName",
  "carrierId",
  "attempts",
  "inviteDateTime",
  "startDateTime",
  "failureDateTime",
  "endDateTime",
  "duration",
  "successfulCall",
  "finalSipCode",
  "finalSipCodePhrase",
  "endedBy",
  "quality",
];

const early = cdr(["fabrikam"], { inviteDateTime: "2026-06-01T08:00:00.000Z" });
const amended = cdr(["fabrikam"], { inviteDateTime: "2026-06-01T09:00:00.000Z" });
const timedOut = cdr(["fabrikam"], {
  inviteDateTime: "2026-06-01T10:00:00.000Z",
  successfulCall: false,
  duration: 0,
  finalSipCode: 408,
  finalSipCodePhrase: "Request Timeout",
  endedBy: "proxy",
  attempts: [
    {
      fqdn: "sbc1.contoso.com",
      startDateTime: "2026-06-01T10:00:00.010Z",
      finalSipCode: null,
      reason: "timeout",
      timer: "B",
    },
  ],
});

beforeAll(async () => {
  h = await startHarness();
  await h.append(early);
  await h.append(amended);
  // A late report (after the BYE, within the late window) for the record just written, then two
  // more records: the amendment sits between its record and the next one in commit order.
  await h.dialgate.cdrLog.append(amendmentEntry(amended, quality("alice@contoso.com", 4.3)));
  await h.append(timedOut);
  await h.append(cdr(["northwind"], { inviteDateTime: "2026-06-01T11:00:00.000Z" }));
});
afterAll(async () => {
  await h.close();
});

describe("a late quality report", () => {
  it("appears once in a page, merged into its record (revision 2, with the quality)", async () => {
    const page = (await h.call("/v1/carrier/cdrs", FABRIKAM_KEY)).json() as Page;
    expect(page.records.map((r) => r.id)).toEqual([early.id, amended.id, timedOut.id]);
    const record = page.records[1] as CallRecord;
    expect(record.revision).toBe(2);
    expect(record.quality?.caller?.mosLq).toBe(4.3);
    expect(page.nextCursor).toBeNull();
  });

  it("appears once across small pages, and the look-ahead does not split a record from its report", async () => {
    const seen: CallRecord[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor === null ? "limit=2" : `limit=2&cursor=${encodeURIComponent(cursor)}`;
      const page = (await h.call(`/v1/carrier/cdrs?${q}`, FABRIKAM_KEY)).json() as Page;
      seen.push(...page.records);
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen.map((r) => r.id)).toEqual([early.id, amended.id, timedOut.id]);
    expect(seen[1]?.quality?.caller?.mosLq).toBe(4.3);
  });

  it("gives one CSV row per record, with the quality", async () => {
    const rows = parseCsv((await h.call("/v1/carrier/cdrs.csv", FABRIKAM_KEY)).text);
    const header = rows[0] as string[];
    expect(rows.slice(1).map((r) => r[0])).toEqual([early.id, amended.id, timedOut.id]);
    const q = (rows[2] as string[])[header.indexOf("quality")] as string;
    expect((JSON.parse(q) as { caller: { mosLq: number } }).caller.mosLq).toBe(4.3);
  });
});

describe("CSV export", () => {
  it("has exactly the CDR table's field names as its header, in the table's order", async () => {
    const csv = await h.call("/v1/carrier/cdrs.csv", FABRIKAM_KEY);
    expect(parseCsv(csv.text)[0]).toEqual(CDR_TABLE_FIELDS);
  });

  it("carries the same attempts as the JSON record, including the timer of a timeout", async () => {
    const json = (await h.call(`/v1/carrier/cdrs/${timedOut.id}`, FABRIKAM_KEY)).json() as CallRecord;
    expect(json.attempts).toEqual(timedOut.attempts);
    const rows = parseCsv((await h.call("/v1/carrier/cdrs.csv", FABRIKAM_KEY)).text);
    const header = rows[0] as string[];
    const row = rows.find((r) => r[0] === timedOut.id) as string[];
    expect(JSON.parse(row[header.indexOf("attempts")] as string)).toEqual(json.attempts);
  });
});

describe("errors the router raises", () => {
  it("answers a bad percent-escape with the contract's error shape", async () => {
    const r = await h.call("/v1/carrier/cdrs/%ZZ", FABRIKAM_KEY);
    expect(r.status).toBe(400);
    const body = r.json() as ErrorBody;
    expect(body.error.code).toBe("bad_request");
    expect(body.error.details.join(" ")).toContain("url:");
  });

  it("answers an unknown id longer than a UUID like any unknown id: 404", async () => {
    const r = await h.call(`/v1/carrier/cdrs/${"a".repeat(300)}`, FABRIKAM_KEY);
    expect(r.status).toBe(404);
    expect((r.json() as ErrorBody).error.code).toBe("not_found");
  });

  it("refuses an unknown query parameter on every carrier route, with its path", async () => {
    for (const path of [
      "/v1/carrier/numbers?x=1",
      "/v1/carrier/cdrs?x=1",
      "/v1/carrier/cdrs.csv?x=1",
      "/v1/carrier/cdrs/some-id?x=1",
      "/v1/carrier/reconciliation?x=1",
      "/v1/carrier/webhook/dead-letters?x=1",
    ]) {
      const r = await h.call(path, FABRIKAM_KEY);
      expect(r.status, path).toBe(400);
      expect((r.json() as ErrorBody).error.details, path).toContain("querystring.x: is not a known field");
    }
  });

  it("says where a body that is not JSON went wrong", async () => {
    const r = await h.call("/v1/carrier/durations", FABRIKAM_KEY, { method: "POST", rawBody: "{oops" });
    expect(r.status).toBe(400);
    expect((r.json() as ErrorBody).error.details).toEqual(["body: is not valid JSON"]);
  });
});

describe("query values as carriers' tools send them", () => {
  const ids = async (q: string, key = FABRIKAM_KEY) => {
    const r = await h.call(`/v1/carrier/cdrs?${q}`, key);
    expect(r.status, `${q}: ${r.text}`).toBe(200);
    return ((r.json() as Page).records ?? []).map((x) => x.id);
  };

  it("reads empty parameters as not given", async () => {
    expect(await ids("from=&to=&cursor=&limit=")).toEqual([early.id, amended.id, timedOut.id]);
    const numbers = await h.call("/v1/carrier/numbers?assigned=", FABRIKAM_KEY);
    expect(numbers.status).toBe(200);
  });

  it("reads a date-time without a zone as UTC and a bare date as midnight UTC", async () => {
    expect(await ids("from=2026-06-01T08:30:00&to=2026-06-01T10:00:00")).toEqual([amended.id]);
    expect(await ids("from=2026-06-01&to=2026-06-02")).toEqual([early.id, amended.id, timedOut.id]);
    expect(await ids("from=2026-06-02")).toEqual([]);
  });

  it("reads an offset whose '+' arrived unencoded (a space) as '+'", async () => {
    // 10:30+01:00 is 09:30Z: only the 08:00 and 09:00 calls are before it.
    expect(await ids("to=2026-06-01T10:30:00+01:00")).toEqual([early.id, amended.id]);
    expect(await ids("to=2026-06-01T10:30:00%2B01:00")).toEqual([early.id, amended.id]);
  });

  it("still refuses what is not a date", async () => {
    for (const q of ["from=2026-06-31", "from=tomorrow", "to=2026-06-01T25:00:00"]) {
      const r = await h.call(`/v1/carrier/cdrs?${q}`, FABRIKAM_KEY);
      expect(r.status, q).toBe(400);
      expect((r.json() as ErrorBody).error.details.join(" "), q).toMatch(/^querystring\.(from|to): /);
    }
  });

  it("keeps carriers apart whatever the spelling", async () => {
    expect(await ids("from=2026-06-01", NORTHWIND_KEY)).toHaveLength(1);
  });
});
