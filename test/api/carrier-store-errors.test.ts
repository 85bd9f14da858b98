// The carrier API over real HTTP on loopback when the CDR log fails to read (a full disk, a Redis
// blip): 503 with Retry-After before anything is sent, and a CSV export that fails after its
// header row went out ends as a truncated transfer — never a short CSV that looks complete.
// A real journal, wrapped so that its reads fail from a chosen one on.
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { carrierApiPlugin } from "../../src/api/carrier/carrier-api.js";
import { type HttpServer, startHttpServer } from "../../src/api/http-server.js";
import { Readiness } from "../../src/api/readiness.js";
import type { CdrLogReader } from "../../src/calls/cdr-log.js";
import type { DurationStore } from "../../src/calls/duration-store.js";
import { carrierSchema } from "../../src/config/schema.js";
import { FileDeadLetterStore } from "../../src/delivery/webhook/delivery-state.js";
import { type CdrJournal, openCdrJournal } from "../../src/store/cdr-journal/index.js";
import { FileDurationStore } from "../../src/store/durations/file-duration-store.js";
import { systemClock } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";
import { cdr } from "./support/carrier-harness.js";

const KEY = "store-errors-key";
let dir: string;
let journal: CdrJournal | null = null;
let server: HttpServer | null = null;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await server?.close();
  server = null;
  for (const close of closers.splice(0)) await close();
  await journal?.close();
  journal = null;
  await rm(dir, { recursive: true, force: true });
});

/**
 * A carrier API whose CDR log reads fail from read number `failFrom` (1-based) on, and whose
 * duration reads fail too when `durationsFail`.
 */
async function start(records: number, failFrom: number, durationsFail = false): Promise<number> {
  dir = await mkdtemp(join(tmpdir(), "dialgate-store-errors-"));
  journal = await openCdrJournal({ file: join(dir, "cdr.jsonl") });
  const j = journal;
  // Concurrent appends share commits (group commit): thousands of records in a moment.
  for (let done = 0; done < records; done += 500) {
    const n = Math.min(500, records - done);
    await Promise.all(Array.from({ length: n }, () => j.append({ kind: "cdr", record: cdr(["fabrikam"]) })));
  }
  let reads = 0;
  const log: CdrLogReader = {
    readAfter: (after, limit, filter) =>
      ++reads >= failFrom
        ? Promise.reject(new Error("EIO: i/o error, read"))
        : j.readAfter(after, limit, filter),
    isValidPosition: (p) => j.isValidPosition(p),
    findById: (id) => (failFrom <= 1 ? Promise.reject(new Error("EIO: i/o error, read")) : j.findById(id)),
  };
  const fileDurations = await FileDurationStore.open(join(dir, "durations.jsonl"));
  const durations: DurationStore = {
    put: (carrierId, items) => fileDurations.put(carrierId, items),
    inRange: (carrierId, fromMs, toMs) =>
      durationsFail
        ? Promise.reject(new Error("EIO: i/o error, read"))
        : fileDurations.inRange(carrierId, fromMs, toMs),
    close: () => fileDurations.close(),
  };
  const deadLetters = await FileDeadLetterStore.open(dir);
  closers.push(
    () => durations.close(),
    () => deadLetters.close(),
  );
  const carriers = [
    carrierSchema.parse({
      id: "fabrikam",
      name: "Fabrikam",
      apiKeySha256: [createHash("sha256").update(KEY).digest("hex")],
    }),
  ];
  server = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    readiness: new Readiness(),
    logger: silentLogger(),
    plugins: [
      carrierApiPlugin({
        carriers: () => carriers,
        log,
        durations,
        numbers: { numbersOf: async () => [] },
        deadLetters,
        cursorKey: Buffer.alloc(32, 7),
        clock: systemClock,
        logger: silentLogger(),
        rateLimit: { max: 1000, timeWindowMs: 60_000 },
      }),
    ],
  });
  return server.address.port;
}

/** A raw GET: the status, the body received, and whether the transfer ended properly. */
function get(port: number, path: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string; complete: boolean }>(
    (resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, path, headers: { authorization: `Bearer ${KEY}` } },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            body += c;
          });
          const done = () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body, complete: res.complete });
          res.on("end", done);
          // A response cut off mid-body: 'aborted' then 'close' without 'end'.
          res.on("close", done);
        },
      );
      req.on("error", reject);
      req.end();
    },
  );
}

describe("CDR log read failures on the carrier API", () => {
  it("answers 503 with Retry-After on the CDR routes when the log cannot be read", async () => {
    const port = await start(3, 1);
    for (const path of [
      "/v1/carrier/cdrs",
      "/v1/carrier/cdrs/some-id",
      "/v1/carrier/cdrs.csv",
      "/v1/carrier/reconciliation",
    ]) {
      const r = await get(port, path);
      expect(r.status, path).toBe(503);
      expect(r.headers["retry-after"], path).toBe("10");
      expect(r.headers["content-type"], path).toMatch(/^application\/json/);
      expect(JSON.parse(r.body), path).toEqual({
        error: { code: "store_unavailable", message: expect.stringMatching(/try again later/), details: [] },
      });
    }
  });

  it("answers 503 with Retry-After on reconciliation when the durations cannot be read", async () => {
    const port = await start(3, Number.POSITIVE_INFINITY, true);
    const r = await get(port, "/v1/carrier/reconciliation");
    expect(r.status).toBe(503);
    expect(r.headers["retry-after"]).toBe("10");
    expect(JSON.parse(r.body)).toEqual({
      error: {
        code: "store_unavailable",
        message: "the carrier durations cannot be read now; try again later",
        details: [],
      },
    });
  });

  it("cuts off a CSV export that fails after its header row was sent: a truncated transfer", async () => {
    // 3,000 records: the first chunk goes out after ~1,100 are read; the 5th read of 500 fails.
    const port = await start(3_000, 5);
    const r = await get(port, "/v1/carrier/cdrs.csv");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^text\/csv/);
    expect(r.body.startsWith("id,correlationId,")).toBe(true);
    // Chunked, without the last chunk: the client knows the file is incomplete.
    expect(r.headers["transfer-encoding"]).toBe("chunked");
    expect(r.complete).toBe(false);
    const rows = r.body.split("\r\n").length;
    expect(rows).toBeGreaterThan(1);
    expect(rows).toBeLessThan(3_000);
  });

  it("sends the whole CSV, properly ended, when the log can be read", async () => {
    const port = await start(1_500, Number.POSITIVE_INFINITY);
    const r = await get(port, "/v1/carrier/cdrs.csv");
    expect(r.status).toBe(200);
    expect(r.complete).toBe(true);
    expect(r.body.trimEnd().split("\r\n").length).toBe(1 + 1_500);
  });
});
