// The carrier API over real HTTP against a real dialgate and its CDR journal: authentication,
// isolation between two carriers on every route, numbers, CDR paging with cursors, one CDR, the
// CSV export, late quality data, rate limiting, bad input, and the OpenAPI document.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CursorCodec } from "../../src/api/carrier/cursor.js";
import type { CallRecord } from "../../src/calls/call-record.js";
import { dialgateConfigSchema } from "../../src/config/schema.js";
import { signatureHeader } from "../../src/delivery/webhook/signature.js";
import { amendmentEntry, quality } from "../store/support/cdr-fixtures.js";
import {
  ADMIN_TOKEN,
  baseConfig,
  cdr,
  FABRIKAM_KEY,
  FABRIKAM_KEY_2,
  type Harness,
  NORTHWIND_KEY,
  startHarness,
} from "./support/carrier-harness.js";
import { parseCsv } from "./support/csv.js";

let h: Harness;
const fab: CallRecord[] = [];
const nw: CallRecord[] = [];
let shared: CallRecord;

type Page = { records: CallRecord[]; nextCursor: string | null };

beforeAll(async () => {
  h = await startHarness();
  // 5 fabrikam-only, 3 northwind-only, 1 both (fabrikam's trunk to a northwind number).
  for (let i = 0; i < 5; i++)
    fab.push(await h.append(cdr(["fabrikam"], { inviteDateTime: `2026-03-01T10:0${i}:00.000Z` })));
  for (let i = 0; i < 3; i++)
    nw.push(await h.append(cdr(["northwind"], { inviteDateTime: `2026-03-01T11:0${i}:00.000Z` })));
  shared = await h.append(cdr(["fabrikam", "northwind"], { inviteDateTime: "2026-03-01T12:00:00.000Z" }));
});
afterAll(async () => {
  await h.close();
});

const ids = (records: readonly { id: string }[]) => records.map((r) => r.id);

describe("authentication", () => {
  const routes = [
    "/v1/carrier/numbers",
    "/v1/carrier/cdrs",
    "/v1/carrier/cdrs.csv",
    "/v1/carrier/cdrs/x",
    "/v1/carrier/reconciliation?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z",
    "/v1/carrier/webhook/dead-letters",
  ];
  it("answers 401 without a key, with a wrong key, and with the admin token, on every route", async () => {
    for (const path of routes) {
      for (const token of [null, "wrong-key", ADMIN_TOKEN]) {
        const r = await h.call(path, token);
        expect(r.status, `${path} with ${token}`).toBe(401);
        expect((r.json() as { error: { code: string } }).error.code).toBe("unauthorized");
        expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
      }
    }
    const post = await h.call("/v1/carrier/durations", "wrong", { method: "POST", body: { durations: [] } });
    expect(post.status).toBe(401);
  });

  it("accepts every key of a carrier", async () => {
    expect((await h.call("/v1/carrier/numbers", FABRIKAM_KEY)).status).toBe(200);
    expect((await h.call("/v1/carrier/numbers", FABRIKAM_KEY_2)).status).toBe(200);
  });
});

describe("numbers", () => {
  it("lists the carrier's numbers with status, assignee and SIP URI, filtered by assigned", async () => {
    const all = (await h.call("/v1/carrier/numbers", FABRIKAM_KEY)).json() as {
      numbers: Record<string, unknown>[];
    };
    expect(all.numbers.map((n) => n.number)).toEqual(["+14255550100", "+14255550101", "+14255550199"]);
    expect(all.numbers[0]).toMatchObject({
      number: "+14255550100",
      tenantId: "contoso",
      status: "assigned",
      assignedTo: "alice@contoso.com",
      sipUri: "sip:+14255550100@contoso.com;user=phone",
    });
    expect(all.numbers[1]).toMatchObject({
      status: "assigned",
      assignedTo: "bob@contoso.com",
      sipUri: "sip:+14255550101;ext=0101@contoso.com;user=phone",
    });
    expect(all.numbers[2]).toMatchObject({ status: "unassigned", assignedTo: null });
    expect(Number.isFinite(Date.parse(String(all.numbers[0]?.updatedDateTime)))).toBe(true);
    const assigned = (await h.call("/v1/carrier/numbers?assigned=true", FABRIKAM_KEY)).json() as {
      numbers: { number: string }[];
    };
    expect(assigned.numbers.map((n) => n.number)).toEqual(["+14255550100", "+14255550101"]);
    const unassigned = (await h.call("/v1/carrier/numbers?assigned=false", FABRIKAM_KEY)).json() as {
      numbers: { number: string }[];
    };
    expect(unassigned.numbers.map((n) => n.number)).toEqual(["+14255550199"]);
  });

  it("shows a carrier only its own numbers", async () => {
    const r = (await h.call("/v1/carrier/numbers", NORTHWIND_KEY)).json() as {
      numbers: { number: string }[];
    };
    expect(r.numbers.map((n) => n.number)).toEqual(["+12065550142"]);
  });

  it("refuses assigned=maybe with the path of the problem", async () => {
    const r = await h.call("/v1/carrier/numbers?assigned=maybe", FABRIKAM_KEY);
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.json())).toContain("querystring.assigned");
  });
});

describe("CDR pull", () => {
  it("returns only the carrier's records, in commit order, without the internal carrierIds", async () => {
    const f = (await h.call("/v1/carrier/cdrs", FABRIKAM_KEY)).json() as Page;
    expect(ids(f.records)).toEqual([...ids(fab), shared.id]);
    expect(f.nextCursor).toBeNull();
    expect(f.records[0]).not.toHaveProperty("carrierIds");
    const { carrierIds: _c, ...expected } = fab[0] as CallRecord;
    expect(f.records[0]).toEqual(expected);
    const n = (await h.call("/v1/carrier/cdrs", NORTHWIND_KEY)).json() as Page;
    expect(ids(n.records)).toEqual([...ids(nw), shared.id]);
  });

  it("pages with limit and an opaque cursor, nextCursor null at the end", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor === null ? "limit=2" : `limit=2&cursor=${encodeURIComponent(cursor)}`;
      const page = (await h.call(`/v1/carrier/cdrs?${q}`, FABRIKAM_KEY)).json() as Page;
      expect(page.records.length).toBeLessThanOrEqual(2);
      seen.push(...ids(page.records));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(seen).toEqual([...ids(fab), shared.id]);
    expect(pages).toBe(3);
  });

  it("filters by inviteDateTime (from inclusive, to exclusive) and keeps the filter in the cursor", async () => {
    const q = "from=2026-03-01T10:01:00Z&to=2026-03-01T10:04:00Z";
    const first = (await h.call(`/v1/carrier/cdrs?${q}&limit=2`, FABRIKAM_KEY)).json() as Page;
    expect(ids(first.records)).toEqual(ids(fab.slice(1, 3)));
    expect(first.nextCursor).not.toBeNull();
    const next = (
      await h.call(
        `/v1/carrier/cdrs?limit=2&cursor=${encodeURIComponent(first.nextCursor as string)}`,
        FABRIKAM_KEY,
      )
    ).json() as Page;
    expect(ids(next.records)).toEqual(ids(fab.slice(3, 4)));
    expect(next.nextCursor).toBeNull();
    const clash = await h.call(
      `/v1/carrier/cdrs?from=2026-01-01T00:00:00Z&cursor=${encodeURIComponent(first.nextCursor as string)}`,
      FABRIKAM_KEY,
    );
    expect(clash.status).toBe(400);
    expect((clash.json() as { error: { code: string } }).error.code).toBe("bad_cursor");
  });

  it("continues from the resume cursor with only what was committed since", async () => {
    const r = await h.call("/v1/carrier/cdrs", NORTHWIND_KEY);
    expect((r.json() as Page).nextCursor).toBeNull();
    const resume = r.headers.get("dialgate-resume-cursor");
    expect(resume).toBeTruthy();
    const later = await h.append(cdr(["northwind"], { inviteDateTime: "2026-03-01T13:00:00.000Z" }));
    nw.push(later);
    const next = (
      await h.call(`/v1/carrier/cdrs?cursor=${encodeURIComponent(resume as string)}`, NORTHWIND_KEY)
    ).json() as Page;
    expect(ids(next.records)).toEqual([later.id]);
  });

  it("refuses forged, altered, foreign and stale cursors with 400", async () => {
    const page = (await h.call("/v1/carrier/cdrs?limit=1", FABRIKAM_KEY)).json() as Page;
    const good = page.nextCursor as string;
    const [payload, mac] = good.split(".") as [string, string];
    const forgedPayload = Buffer.from(JSON.stringify([1, "00000001:000000000000", null, null])).toString(
      "base64url",
    );
    const cases = [
      "not-a-cursor",
      `${forgedPayload}.${mac}`,
      `${payload}.${mac.slice(0, -2)}AA`,
      `${payload.slice(0, -1)}x.${mac}`,
    ];
    for (const c of cases) {
      const r = await h.call(`/v1/carrier/cdrs?cursor=${encodeURIComponent(c)}`, FABRIKAM_KEY);
      expect(r.status, c).toBe(400);
      const body = r.json() as { error: { code: string; details: string[] } };
      expect(body.error.code).toBe("bad_cursor");
      expect(body.error.details[0]).toMatch(/^querystring\.cursor: /);
    }
    // Fabrikam's cursor is worthless to northwind.
    const foreign = await h.call(`/v1/carrier/cdrs?cursor=${encodeURIComponent(good)}`, NORTHWIND_KEY);
    expect(foreign.status).toBe(400);
  });

  it("refuses limit out of range, bad dates, reversed ranges and unknown parameters, with paths", async () => {
    const cases: [string, string][] = [
      ["limit=0", "querystring.limit"],
      ["limit=1001", "querystring.limit"],
      ["limit=ten", "querystring.limit"],
      ["from=yesterday", "querystring.from"],
      ["to=2026-13-45T00:00:00Z", "querystring.to"],
      ["from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "querystring.to"],
      ["carrier=northwind", "querystring.carrier"],
    ];
    for (const [q, path] of cases) {
      const r = await h.call(`/v1/carrier/cdrs?${q}`, FABRIKAM_KEY);
      expect(r.status, q).toBe(400);
      const body = r.json() as { error: { code: string; details: string[] } };
      expect(body.error.details.join(" "), q).toContain(path);
      expect(r.text).not.toMatch(/at .*\.js/);
    }
  });
});

describe("one CDR", () => {
  it("returns the carrier's record and 404 for another carrier's or an unknown id", async () => {
    const own = await h.call(`/v1/carrier/cdrs/${fab[0]?.id}`, FABRIKAM_KEY);
    expect(own.status).toBe(200);
    expect((own.json() as CallRecord).id).toBe(fab[0]?.id);
    const theirs = await h.call(`/v1/carrier/cdrs/${nw[0]?.id}`, FABRIKAM_KEY);
    expect(theirs.status).toBe(404);
    const unknown = await h.call("/v1/carrier/cdrs/00000000-0000-0000-0000-000000000000", FABRIKAM_KEY);
    expect(unknown.status).toBe(404);
    // The two 404s are indistinguishable: nothing says the other record exists.
    expect(theirs.text).toBe(unknown.text);
    expect((await h.call(`/v1/carrier/cdrs/${shared.id}`, NORTHWIND_KEY)).status).toBe(200);
  });
});

describe("CSV export", () => {
  it("has the CDR field names as header and one row per record, matching the JSON", async () => {
    const csv = await h.call("/v1/carrier/cdrs.csv", FABRIKAM_KEY);
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    const rows = parseCsv(csv.text);
    const header = rows[0] as string[];
    expect(header).not.toContain("carrierIds");
    expect(header.slice(0, 3)).toEqual(["id", "correlationId", "tenantId"]);
    const json = (await h.call("/v1/carrier/cdrs?limit=1000", FABRIKAM_KEY)).json() as Page;
    expect(rows.length - 1).toBe(json.records.length);
    json.records.forEach((record, i) => {
      const row = rows[i + 1] as string[];
      const byName = Object.fromEntries(header.map((name, j) => [name, row[j]]));
      const r = record as unknown as Record<string, unknown>;
      for (const name of header) {
        const v = r[name];
        const expected =
          v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
        expect(byName[name], `${record.id}.${name}`).toBe(expected);
      }
      expect(JSON.parse(byName.attempts as string)).toEqual(record.attempts);
    });
  });

  it("takes the same filters and shows only the carrier's records", async () => {
    const csv = await h.call("/v1/carrier/cdrs.csv?from=2026-03-01T11:00:00Z", NORTHWIND_KEY);
    const rows = parseCsv(csv.text).slice(1);
    const json = (await h.call("/v1/carrier/cdrs?from=2026-03-01T11:00:00Z", NORTHWIND_KEY)).json() as Page;
    expect(rows.map((r) => r[0])).toEqual(ids(json.records));
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(rows.every((r) => !ids(fab).includes(r[0] as string))).toBe(true);
    const bad = await h.call("/v1/carrier/cdrs.csv?from=nope", NORTHWIND_KEY);
    expect(bad.status).toBe(400);
  });
});

describe("stale cursors", () => {
  it("refuses a correctly signed cursor whose position the log does not hold", async () => {
    const key = Buffer.from((await readFile(join(h.dir, "var", "cursor.key"), "utf8")).trim(), "hex");
    const stale = new CursorCodec(key).encode("fabrikam", {
      position: "00000001:999999999999",
      from: null,
      to: null,
    });
    const r = await h.call(`/v1/carrier/cdrs?cursor=${encodeURIComponent(stale)}`, FABRIKAM_KEY);
    expect(r.status).toBe(400);
    expect((r.json() as { error: { code: string } }).error.code).toBe("stale_cursor");
  });
});

describe("late quality data", () => {
  it("re-presents the record with the next revision at the amendment's position", async () => {
    const start = await h.call("/v1/carrier/cdrs", FABRIKAM_KEY);
    const resume = start.headers.get("dialgate-resume-cursor") as string;
    const target = fab[1] as CallRecord;
    await h.dialgate.cdrLog.append(amendmentEntry(target, quality("alice@contoso.com", 4.1)));
    const next = (
      await h.call(`/v1/carrier/cdrs?cursor=${encodeURIComponent(resume)}`, FABRIKAM_KEY)
    ).json() as Page;
    expect(ids(next.records)).toEqual([target.id]);
    expect(next.records[0]?.revision).toBe(2);
    expect(next.records[0]?.quality?.caller?.mosLq).toBe(4.1);
    const one = (await h.call(`/v1/carrier/cdrs/${target.id}`, FABRIKAM_KEY)).json() as CallRecord;
    expect(one.revision).toBe(2);
    // The other carrier sees nothing of it.
    const nwResume = (await h.call("/v1/carrier/cdrs", NORTHWIND_KEY)).headers.get(
      "dialgate-resume-cursor",
    ) as string;
    await h.dialgate.cdrLog.append(amendmentEntry(target, quality("alice@contoso.com", 3.9)));
    const nwNext = (
      await h.call(`/v1/carrier/cdrs?cursor=${encodeURIComponent(nwResume)}`, NORTHWIND_KEY)
    ).json() as Page;
    expect(nwNext.records).toEqual([]);
  });
});

describe("OpenAPI", () => {
  it("serves an OpenAPI 3.1 document generated from the route schemas, with every route", async () => {
    const r = await h.call("/openapi.json", null);
    expect(r.status).toBe(200);
    const doc = r.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe("3.1.0");
    const expected: [string, string][] = [
      ["/v1/carrier/numbers", "get"],
      ["/v1/carrier/cdrs", "get"],
      ["/v1/carrier/cdrs.csv", "get"],
      ["/v1/carrier/cdrs/{id}", "get"],
      ["/v1/carrier/durations", "post"],
      ["/v1/carrier/reconciliation", "get"],
      ["/v1/carrier/webhook/dead-letters", "get"],
      ["/v1/admin/dialplan/test", "post"],
      ["/v1/admin/route/test", "post"],
      ["/v1/admin/users/{userId}/effective-dial-plan", "get"],
      ["/v1/admin/tenants", "get"],
      ["/v1/admin/tenants/{tenantId}", "get"],
      ["/v1/admin/tenants/{tenantId}/users", "get"],
      ["/v1/admin/tenants/{tenantId}/routing", "get"],
      ["/v1/admin/users/{userId}", "get"],
      ["/v1/admin/gateways", "get"],
      ["/v1/admin/gateways/{fqdn}", "get"],
      ["/v1/admin/translation-rules", "get"],
      ["/v1/admin/carriers", "get"],
      ["/healthz", "get"],
      ["/readyz", "get"],
    ];
    for (const [path, method] of expected)
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    const cdrs = doc.paths["/v1/carrier/cdrs"]?.get as { parameters: { name: string }[]; security: unknown };
    expect(cdrs.parameters.map((p) => p.name).sort()).toEqual(["cursor", "from", "limit", "to"]);
    expect(cdrs.security).toEqual([{ carrierKey: [] }]);
    // 429 (per key, and per address for failed authentications) says when to come back.
    type Responses = Record<string, { headers?: Record<string, unknown>; content?: unknown }>;
    const responses = (path: string, method: string) =>
      (doc.paths[path]?.[method] as { responses: Responses }).responses;
    for (const [path, method] of expected.filter(([p]) => p.startsWith("/v1/")))
      expect(responses(path, method)["429"]?.headers?.["retry-after"], `429 of ${method} ${path}`).toEqual({
        schema: { type: "integer", minimum: 1 },
        description: expect.any(String),
      });
    // Routes that read a store answer 503 with Retry-After when it cannot be read.
    for (const path of [
      "/v1/carrier/cdrs",
      "/v1/carrier/cdrs.csv",
      "/v1/carrier/cdrs/{id}",
      "/v1/carrier/reconciliation",
      "/v1/carrier/webhook/dead-letters",
    ])
      expect(responses(path, "get")["503"]?.headers?.["retry-after"], path).toBeDefined();
    expect(responses("/v1/carrier/durations", "post")["503"]?.headers?.["retry-after"]).toBeDefined();
    expect(Object.keys(responses("/readyz", "get")).sort()).toEqual(["200", "503"]);
  });

  it("documents the durations items by reference and the CDR webhook as an OpenAPI 3.1 webhook", async () => {
    const doc = (await h.call("/openapi.json", null)).json() as {
      paths: Record<
        string,
        Record<string, { requestBody: { content: Record<string, { schema: unknown }> } }>
      >;
      components: { schemas: Record<string, { required?: string[] }> };
      webhooks: Record<
        string,
        {
          post: {
            parameters: { name: string; in: string; required: boolean; schema: { pattern: string } }[];
            requestBody: { content: Record<string, { schema: Record<string, unknown> }> };
            responses: Record<string, unknown>;
          };
        }
      >;
    };
    const body = doc.paths["/v1/carrier/durations"]?.post?.requestBody.content["application/json"]
      ?.schema as {
      properties: { durations: { items: unknown } };
    };
    expect(body.properties.durations.items).toEqual({ $ref: "#/components/schemas/CarrierDuration" });
    expect(doc.components.schemas.CarrierDuration?.required).toEqual([
      "correlationId",
      "startDateTime",
      "durationSeconds",
    ]);
    // No marker left anywhere for a reader to trip on.
    expect(JSON.stringify(doc)).not.toContain("x-dialgate-documented-as");

    const push = doc.webhooks.cdrPush?.post;
    expect(push).toBeDefined();
    const signature = push?.parameters.find((p) => p.name === "Dialgate-Signature");
    expect(signature).toMatchObject({ in: "header", required: true });
    // The documented pattern accepts what dialgate sends and nothing looser.
    const pattern = new RegExp(signature?.schema.pattern ?? "^$");
    expect(pattern.test(signatureHeader("s", 1_767_225_600, '{"records":[]}'))).toBe(true);
    expect(pattern.test("t=1,v1=abc")).toBe(false);
    const batch = push?.requestBody.content["application/json"]?.schema as {
      required: string[];
      properties: { records: { type: string; items: { properties: Record<string, unknown> } } };
    };
    expect(batch.required).toEqual(["records"]);
    expect(batch.properties.records.type).toBe("array");
    // The CDR as the pull API answers it: every field of the contract, never carrierIds.
    expect(Object.keys(batch.properties.records.items.properties)).toEqual(
      expect.arrayContaining(["id", "correlationId", "callType", "attempts", "duration", "quality"]),
    );
    expect(batch.properties.records.items.properties).not.toHaveProperty("carrierIds");
    expect(Object.keys(push?.responses ?? {})).toContain("2XX");
  });
});

describe("rate limiting", () => {
  it("answers 429 with Retry-After past the per-key limit, per key", async () => {
    const limited = await startHarness({
      patch: (b) => ({ ...b, http: { ...(b.http as object), carrierRequestsPerMinute: 3 } }),
    });
    try {
      for (let i = 0; i < 3; i++)
        expect((await limited.call("/v1/carrier/numbers", FABRIKAM_KEY)).status).toBe(200);
      // Part of the window passes: the message must still name the whole window, not what is left.
      await new Promise((resolve) => setTimeout(resolve, 600));
      const over = await limited.call("/v1/carrier/numbers", FABRIKAM_KEY);
      expect(over.status).toBe(429);
      expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
      const error = (over.json() as { error: { code: string; message: string } }).error;
      expect(error.code).toBe("rate_limited");
      // The window is the configured minute, whatever is left of it.
      expect(error.message).toContain("3 requests per 60 s");
      // Another key (of the same carrier, or another carrier's) has its own budget.
      expect((await limited.call("/v1/carrier/numbers", FABRIKAM_KEY_2)).status).toBe(200);
      expect((await limited.call("/v1/carrier/numbers", NORTHWIND_KEY)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe("live reload", () => {
  it("applies new carrier keys and numbers (and what the admin API shows) at once", async () => {
    const r = await startHarness();
    try {
      const raw = baseConfig(r.dir, r.config.sip.listen[0]?.port ?? 5060);
      const carriers = (raw.carriers as Record<string, unknown>[]).map((c) =>
        c.id === "northwind"
          ? {
              ...c,
              apiKeySha256: [createHash("sha256").update("northwind-rotated").digest("hex")],
              numbers: [{ number: "+12065550143", tenant: "contoso" }],
            }
          : c,
      );
      const outcome = await r.dialgate.reload(dialgateConfigSchema.parse({ ...raw, carriers }));
      expect(outcome.ok).toBe(true);
      expect((await r.call("/v1/carrier/numbers", NORTHWIND_KEY)).status).toBe(401);
      const numbers = (await r.call("/v1/carrier/numbers", "northwind-rotated")).json() as {
        numbers: { number: string }[];
      };
      expect(numbers.numbers.map((n) => n.number)).toEqual(["+12065550143"]);
      expect((await r.call("/v1/carrier/numbers", FABRIKAM_KEY)).status).toBe(200);
      const admin = (await r.call("/v1/admin/carriers", ADMIN_TOKEN)).json() as {
        carriers: { id: string; numbers: unknown[] }[];
      };
      expect(admin.carriers.find((c) => c.id === "northwind")?.numbers).toEqual([
        { number: "+12065550143", tenant: "contoso" },
      ]);
    } finally {
      await r.close();
    }
  });
});
