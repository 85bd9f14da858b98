// Carrier API throughput (issue #13): CDR pull (records/s through GET /v1/carrier/cdrs, paging
// with limit=1000) and the CSV export of every record (rows/s and the process's RSS while it
// streams), over real HTTP on loopback against the real CDR journal. The journal is filled first
// (BENCH_RECORDS, default 1,000,000, appended by 512 concurrent writers). Client and server share
// this process, so the figures include the client's JSON parsing. `npm run bench:carrier-api`.
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { openCarrierServices } from "../src/api/carrier/services.js";
import { buildHttpApp } from "../src/api/http-server.js";
import { Readiness } from "../src/api/readiness.js";
import type { CallRecord } from "../src/calls/call-record.js";
import { dialgateConfigSchema } from "../src/config/schema.js";
import { openCdrJournal } from "../src/store/cdr-journal/index.js";
import { systemClock, systemRandom } from "../src/util/clock.js";
import { silentLogger } from "../src/util/logger.js";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const WRITERS = 512;
const KEY = "bench-key";

function record(i: number): CallRecord {
  const invite = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    correlationId: `${i}-a84b4c76e66710@192.0.2.10`,
    tenantId: "contoso",
    userId: "alice@contoso.com",
    userPrincipalName: "alice@contoso.com",
    userDisplayName: "Alice Example",
    callType: "dr_out",
    callerNumber: "+14255550100",
    calleeNumber: "+14255550123",
    dialedNumber: "5550123",
    matchingRule: "Redmond/7digitcallingRedmond",
    effectiveTenantDialPlanName: "Redmond",
    voiceRoute: "Redmond1",
    pstnUsage: "US and Canada",
    trunkFullyQualifiedDomainName: "sbc1.contoso.com",
    carrierId: "fabrikam",
    carrierIds: ["fabrikam"],
    attempts: [
      { fqdn: "sbc2.contoso.com", startDateTime: invite, finalSipCode: 503, reason: "failover-code" },
      { fqdn: "sbc1.contoso.com", startDateTime: invite, finalSipCode: 200, reason: "answered" },
    ],
    inviteDateTime: invite,
    startDateTime: invite,
    failureDateTime: null,
    endDateTime: invite,
    duration: 61,
    successfulCall: true,
    finalSipCode: 200,
    finalSipCodePhrase: "OK",
    endedBy: "caller",
    revision: 1,
  };
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), "dialgate-bench-carrier-"));
  const config = dialgateConfigSchema.parse({
    sip: { listen: [{ transport: "udp", host: "127.0.0.1", port: 5060 }], recordRouteHost: "127.0.0.1" },
    http: { port: 0, carrierRequestsPerMinute: 1_000_000 },
    cdr: { file: join(dir, "cdr.jsonl") },
    carriers: [
      { id: "fabrikam", name: "Fabrikam", apiKeySha256: [createHash("sha256").update(KEY).digest("hex")] },
    ],
  });
  const logger = silentLogger();
  const journal = await openCdrJournal({ file: config.cdr.file, logger, clock: systemClock });
  try {
    let next = 0;
    const fillStart = performance.now();
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        while (next < RECORDS) {
          const i = next++;
          await journal.append({ kind: "cdr", record: record(i) });
        }
      }),
    );
    const fillSeconds = (performance.now() - fillStart) / 1000;
    console.log(`filled ${RECORDS} records in ${fillSeconds.toFixed(1)} s`);

    const services = await openCarrierServices({
      config,
      log: journal,
      clock: systemClock,
      random: systemRandom,
      logger,
      env: {},
    });
    const app = await buildHttpApp({ readiness: new Readiness(), plugins: services.plugins, logger });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const addr = app.server.address();
    const base = `http://127.0.0.1:${typeof addr === "object" && addr !== null ? addr.port : 0}`;
    const headers = { authorization: `Bearer ${KEY}` };

    // Pull: every record, 1000 a page.
    let cursor: string | null = null;
    let pulled = 0;
    const pullStart = performance.now();
    do {
      const q: string = cursor === null ? "limit=1000" : `limit=1000&cursor=${encodeURIComponent(cursor)}`;
      const res = await fetch(`${base}/v1/carrier/cdrs?${q}`, { headers });
      const page = (await res.json()) as { records: unknown[]; nextCursor: string | null };
      pulled += page.records.length;
      cursor = page.nextCursor;
    } while (cursor !== null);
    const pullSeconds = (performance.now() - pullStart) / 1000;
    console.log(
      `pull: ${pulled} records in ${pullSeconds.toFixed(1)} s = ${Math.round(pulled / pullSeconds)} records/s`,
    );

    // CSV: stream every record, sampling RSS.
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const csvStart = performance.now();
    const res = await fetch(`${base}/v1/carrier/cdrs.csv`, { headers });
    let bytes = 0;
    let rows = -1; // the header
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (const b of chunk) if (b === 0x0a) rows++;
    }
    const csvSeconds = (performance.now() - csvStart) / 1000;
    clearInterval(sampler);
    console.log(
      `csv: ${rows} rows, ${mib(bytes)} MiB in ${csvSeconds.toFixed(1)} s = ${Math.round(rows / csvSeconds)} rows/s; ` +
        `RSS ${mib(rssBefore)} MiB before, peak ${mib(peak)} MiB during`,
    );
    console.log(`machine: ${cpus()[0]?.model} x${cpus().length}, node ${process.version}`);
    await app.close();
    await services.close();
  } finally {
    await journal.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
