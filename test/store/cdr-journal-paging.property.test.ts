// Property: a reader paging with the last position it got, while appends keep committing (and
// segments keep rotating), sees every entry exactly once and in commit order.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { expect, it } from "vitest";
import { openCdrJournal } from "../../src/store/cdr-journal/index.js";
import { cdrEntry } from "./support/cdr-fixtures.js";

type Step =
  | { readonly kind: "append"; readonly count: number }
  | { readonly kind: "read"; readonly limit: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("append" as const), count: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant("read" as const), limit: fc.integer({ min: 1, max: 9 }) }),
);

it("never skips or repeats an entry when paging while appending", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 1500, max: 6000 }),
      async (steps, segmentBytes) => {
        const dir = await mkdtemp(join(tmpdir(), "dialgate-paging-"));
        const journal = await openCdrJournal({ file: join(dir, "cdr.jsonl"), segmentBytes });
        try {
          const appended: string[] = [];
          const inFlight: Promise<string>[] = [];
          const seen: string[] = [];
          let cursor: string | null = null;
          const read = async (limit: number) => {
            const page = await journal.readAfter(cursor, limit);
            for (const { position, entry } of page) {
              expect(cursor === null || position > cursor).toBe(true);
              if (entry.kind === "cdr") seen.push(entry.record.id);
              cursor = position;
            }
            return page.length;
          };
          for (const s of steps) {
            if (s.kind === "append") {
              for (let i = 0; i < s.count; i++) {
                const id = `e${appended.length}`;
                appended.push(id);
                // Not awaited: the reader runs while commits are in flight.
                inFlight.push(journal.append(cdrEntry(id)));
              }
            } else await read(s.limit);
          }
          await Promise.all(inFlight);
          while ((await read(7)) > 0) {}
          expect(seen).toEqual(appended);
        } finally {
          await journal.close();
          await rm(dir, { recursive: true, force: true });
        }
      },
    ),
    { numRuns: 40 },
  );
});
