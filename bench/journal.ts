// CDR journal throughput (issue #12): records/s and fsyncs/s at several concurrency levels —
// N writers, each appending a realistic CDR and awaiting its durability before the next, as
// N calls ending at once would. Group commit shows as records per fsync growing with N.
// Run with `npm run bench:journal` (BENCH_SECONDS per level, default 3; BENCH_DIR for the
// directory, default the OS temp dir: put it on the disk the journal will live on).
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import type { CallRecord } from "../src/calls/call-record.js";
import { openCdrJournal } from "../src/store/cdr-journal/index.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? "1,8,64,512").split(",").map(Number);

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

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function level(concurrency: number): Promise<void> {
  const dir = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), "dialgate-bench-journal-"));
  const journal = await openCdrJournal({ file: join(dir, "cdr.jsonl") });
  let next = 0;
  const latencies: number[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  const writer = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await journal.append({ kind: "cdr", record: record(next++) });
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, writer));
  const elapsed = (performance.now() - started) / 1000;
  const { entriesWritten, fsyncs, bytesWritten } = journal.stats;
  await journal.close();
  await rm(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  console.log(
    [
      `concurrency ${String(concurrency).padStart(4)}`,
      `${Math.round(entriesWritten / elapsed)
        .toLocaleString("en-US")
        .padStart(8)} records/s`,
      `${Math.round(fsyncs / elapsed)
        .toLocaleString("en-US")
        .padStart(6)} fsyncs/s`,
      `${(entriesWritten / Math.max(1, fsyncs)).toFixed(1).padStart(6)} records/fsync`,
      `${(bytesWritten / elapsed / 1e6).toFixed(1).padStart(5)} MB/s`,
      `append p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`,
    ].join("  "),
  );
}

console.log(
  `CDR journal, ${SECONDS}s per level; ${cpus()[0]?.model ?? "?"} x${cpus().length}, Node ${process.version}`,
);
for (const n of LEVELS) await level(n);
