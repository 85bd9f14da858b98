// Paging while records are committed (property-based, fast-check): two carriers page through
// their CDRs with random limits and filters while random batches of records are appended at the
// same time over the real journal. Following nextCursor (and, once it is null, the
// Dialgate-Resume-Cursor header), each carrier ends up with exactly its records in commit order:
// none skipped, none repeated.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CallRecord } from "../../src/calls/call-record.js";
import { cdr, FABRIKAM_KEY, NORTHWIND_KEY, startHarness } from "./support/carrier-harness.js";

const CARRIERS = { fabrikam: FABRIKAM_KEY, northwind: NORTHWIND_KEY } as const;
type CarrierId = keyof typeof CARRIERS;

const visibility = fc.constantFrom<readonly CarrierId[]>(
  ["fabrikam"],
  ["northwind"],
  ["fabrikam", "northwind"],
  [],
);
const step = fc.record({
  appends: fc.array(fc.record({ to: visibility, minute: fc.integer({ min: 0, max: 59 }) }), { maxLength: 6 }),
  reader: fc.constantFrom<CarrierId>("fabrikam", "northwind"),
  limit: fc.integer({ min: 1, max: 5 }),
});
const scenario = fc.record({
  steps: fc.array(step, { minLength: 1, maxLength: 12 }),
  // Either no filter, or an inviteDateTime window inside the hour the records fall in.
  window: fc.option(
    fc.tuple(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 1, max: 60 })).map(([a, len]) => ({
      from: a,
      to: Math.min(60, a + len),
    })),
    { nil: null },
  ),
});

const at = (minute: number) => new Date(Date.UTC(2026, 6, 1, 9, minute, 0)).toISOString();

describe("paging while records are appended", () => {
  it("never skips or repeats a record", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ steps, window }) => {
        const h = await startHarness();
        try {
          const cursors: Record<CarrierId, string | null> = { fabrikam: null, northwind: null };
          const seen: Record<CarrierId, string[]> = { fabrikam: [], northwind: [] };
          const filter = window === null ? "" : `&from=${at(window.from)}&to=${at(window.to)}`;
          const page = async (carrier: CarrierId, limit: number): Promise<boolean> => {
            const c = cursors[carrier];
            const q =
              c === null ? `limit=${limit}${filter}` : `limit=${limit}&cursor=${encodeURIComponent(c)}`;
            const r = await h.call(`/v1/carrier/cdrs?${q}`, CARRIERS[carrier]);
            expect(r.status, r.text).toBe(200);
            const body = r.json() as { records: CallRecord[]; nextCursor: string | null };
            expect(body.records.length).toBeLessThanOrEqual(limit);
            seen[carrier].push(...body.records.map((x) => x.id));
            cursors[carrier] = body.nextCursor ?? r.headers.get("dialgate-resume-cursor");
            return body.nextCursor === null;
          };
          for (const s of steps) {
            // The appends and the page request run at the same time.
            await Promise.all([
              ...s.appends.map((a) => h.append(cdr(a.to, { inviteDateTime: at(a.minute) }))),
              page(s.reader, s.limit),
            ]);
          }
          for (const carrier of ["fabrikam", "northwind"] as const) {
            let guard = 0;
            while (!(await page(carrier, 3))) expect(guard++).toBeLessThan(1000);
          }
          const log = await h.dialgate.cdrLog.readAfter(null, 100_000);
          for (const carrier of ["fabrikam", "northwind"] as const) {
            const expected = log
              .flatMap((e) => (e.entry.kind === "cdr" ? [e.entry.record] : []))
              .filter((r) => r.carrierIds.includes(carrier))
              .filter((r) => {
                if (window === null) return true;
                const t = Date.parse(r.inviteDateTime);
                return t >= Date.parse(at(window.from)) && t < Date.parse(at(window.to));
              })
              .map((r) => r.id);
            expect(seen[carrier]).toEqual(expected);
          }
        } finally {
          await h.close();
        }
      }),
      { numRuns: 12 },
    );
  }, 300_000);
});
