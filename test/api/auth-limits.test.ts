// Rate limits of the carrier and admin APIs over real HTTP on loopback: failed authentications
// are limited per source address (key or token guessing gets 429 + Retry-After, on carrier and
// admin routes alike, and a correct key from a blocked address is refused too), and a key's bad
// requests (400) count against its own per-key limit.
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_AUTH_FAILURE_LIMIT } from "../../src/api/auth-failure-limit.js";
import {
  ADMIN_TOKEN,
  FABRIKAM_KEY,
  FABRIKAM_KEY_2,
  type Harness,
  startHarness,
} from "./support/carrier-harness.js";

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

type ErrorBody = { error: { code: string; message: string; details: unknown[] } };

describe("failed authentications per source address", () => {
  it("answers 429 with Retry-After after too many 401s, on carrier and admin routes, even with a good key", async () => {
    h = await startHarness();
    const max = DEFAULT_AUTH_FAILURE_LIMIT.maxFailures;
    expect(max).toBe(300);
    // Guesses at carrier keys and at the admin token count together.
    for (let i = 0; i < max; i++) {
      const r =
        i % 2 === 0
          ? await h.call("/v1/carrier/numbers", `guess-${i}`)
          : await h.call("/v1/admin/tenants", `guess-${i}`);
      expect(r.status, `guess ${i}`).toBe(401);
    }
    for (const [path, token] of [
      ["/v1/carrier/numbers", "one-more-guess"],
      ["/v1/carrier/numbers", FABRIKAM_KEY],
      ["/v1/carrier/cdrs", null],
      ["/v1/admin/tenants", ADMIN_TOKEN],
    ] as const) {
      const r = await h.call(path, token);
      expect(r.status, `${path} with ${token}`).toBe(429);
      const wait = Number(r.headers.get("retry-after"));
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(60);
      const body = r.json() as ErrorBody;
      expect(body.error.code).toBe("rate_limited");
      expect(body.error.message).toContain("failed authentications");
    }
    // Open endpoints are not behind credentials, so not behind this limit.
    expect((await h.call("/healthz", null)).status).toBe(200);
    expect((await h.call("/openapi.json", null)).status).toBe(200);
  });

  it("lets a client with a good key go on while it stays under the limit", async () => {
    h = await startHarness();
    for (let i = 0; i < DEFAULT_AUTH_FAILURE_LIMIT.maxFailures - 1; i++)
      expect((await h.call("/v1/carrier/numbers", "stale-key")).status).toBe(401);
    expect((await h.call("/v1/carrier/numbers", FABRIKAM_KEY)).status).toBe(200);
    expect((await h.call("/v1/admin/tenants", ADMIN_TOKEN)).status).toBe(200);
  });
});

describe("the per-key limit", () => {
  it("counts a key's bad requests (400, malformed JSON) against that key", async () => {
    h = await startHarness({
      patch: (b) => ({ ...b, http: { ...(b.http as object), carrierRequestsPerMinute: 3 } }),
    });
    expect((await h.call("/v1/carrier/cdrs?limit=0", FABRIKAM_KEY)).status).toBe(400);
    expect((await h.call("/v1/carrier/cdrs?nonsense=1", FABRIKAM_KEY)).status).toBe(400);
    expect(
      (await h.call("/v1/carrier/durations", FABRIKAM_KEY, { method: "POST", rawBody: "{not json" })).status,
    ).toBe(400);
    const over = await h.call("/v1/carrier/numbers", FABRIKAM_KEY);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((over.json() as ErrorBody).error.code).toBe("rate_limited");
    // Another key has its own budget.
    expect((await h.call("/v1/carrier/numbers", FABRIKAM_KEY_2)).status).toBe(200);
  });
});
