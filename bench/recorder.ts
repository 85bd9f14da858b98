// What the call recorder costs per call (issue #12: "the recorder may cost at most 10% of the
// maximum call rate"), measured without SIPp: the end-to-end A/B (`BENCH_RIGS=dialgate,
// dialgate-unrecorded npm run bench:overload`) moves by more than the recorder's whole cost
// between runs on a shared 2-vCPU host, while this process's CPU is steady.
//
// A paced stream of calls, as the native edge reports them: every 10 ms, rate/100 calls start
// (received, attempt-sent, answered) and the calls started `BENCH_HOLD_MS` earlier end (a BYE).
// The recorder writes each CDR through the real journal (group commit, fdatasync) in
// BENCH_DIR (default the OS temp dir: put it on the disk the journal lives on). The same
// stream runs first with no recorder subscribed (the baseline: event objects and the pacing
// loop), then with the recorder; the difference in process CPU (user + system, every thread:
// GC, the fsync threads) per call is the recorder's cost. Compare it with the proxy's CPU per
// call from bench:overload at the same rate (README).
//
// BENCH_RATE (default 500 calls/s), BENCH_SECONDS (default 10), BENCH_HOLD_MS (default 500),
// BENCH_COMMIT_INTERVAL_MS (the journal's `cdr.commitIntervalMs`; default dialgate's),
// BENCH_NULL_SINK=1 (no journal: what the recorder itself costs).
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { CallRecorder } from "../src/calls/call-recorder.js";
import { CallEventBus } from "../src/calls/events.js";
import type { CallContext, RouteTarget } from "../src/routing/decision.js";
import { SystemTimerService } from "../src/sip/native/timer-service.js";
import { openCdrJournal } from "../src/store/cdr-journal/index.js";
import { systemClock } from "../src/util/clock.js";
import { silentLogger } from "../src/util/logger.js";

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const HOLD_MS = Number(process.env.BENCH_HOLD_MS ?? 500);
const TICK_MS = 10;
/** BENCH_NULL_SINK=1: CDRs go to a sink that takes them at once, to part the recorder from the journal. */
const NULL_SINK = process.env.BENCH_NULL_SINK === "1";

// A call of the bench:load rig: a tenant user's national number normalized and routed to a gateway.
const CALL: CallContext = {
  direction: "dr_out",
  tenantId: "bench",
  callerUserId: "caller@bench.example",
  calleeUserId: null,
  callerNumber: "+14255550100",
  dialledNumber: "4255550123",
  normalizedNumber: "+14255550123",
  gatewayFqdn: null,
  calleeNumber: "+14255550123",
  userPrincipalName: "caller@bench.example",
  userDisplayName: "Bench Caller",
  matchingRule: "US/NationalNumber",
  effectiveTenantDialPlanName: "Global",
  pstnUsage: "US and Canada",
  gatewayCarrier: null,
  numberCarriers: [],
};
const GATEWAY: RouteTarget = {
  requestUri: "sip:+14255550123@uas.bench.example:5080;user=phone",
  destination: { host: "127.0.0.1", port: 5080, transport: "udp" },
  label: "uas.bench.example",
  gateway: "uas.bench.example",
  carrier: null,
  voiceRoute: "US",
};

interface Run {
  readonly cpuMicrosPerCall: number;
  /** The main thread's busy time per call (what bounds one process's call rate). */
  readonly mainMicrosPerCall: number;
  readonly calls: number;
  readonly fsyncs: number;
  readonly seconds: number;
}

async function run(withRecorder: boolean): Promise<Run> {
  const dir = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), "dialgate-bench-recorder-"));
  const interval = process.env.BENCH_COMMIT_INTERVAL_MS;
  const journal = await openCdrJournal({
    file: join(dir, "cdr.jsonl"),
    ...(interval === undefined || interval === "" ? {} : { commitIntervalMs: Number(interval) }),
  });
  const bus = new CallEventBus();
  const recorder = new CallRecorder({
    sink: NULL_SINK ? { append: () => Promise.resolve("00000001:000000000000") } : journal,
    clock: systemClock,
    scheduler: new SystemTimerService(),
    logger: silentLogger(),
  });
  if (withRecorder) recorder.attach(bus);
  const perTick = (RATE * TICK_MS) / 1000;
  const up: { callId: string; endAt: number }[] = [];
  let started = 0;
  let owed = 0;
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      const now = Date.now();
      const elapsed = performance.now() - t0;
      while (up.length > 0 && (up[0] as { endAt: number }).endAt <= now) {
        const call = up.shift() as { callId: string };
        bus.emit({ type: "ended", callId: call.callId, at: now, by: "caller" });
        // The edge holds the BYE's 200 until the CDR is durable (proxy-call.ts onSuccess).
        if (withRecorder) void recorder.recorded(call.callId)?.then(() => undefined);
      }
      if (elapsed < SECONDS * 1000) {
        owed += perTick;
        for (; owed >= 1; owed--) {
          const callId = `${++started}-bench@127.0.0.1`;
          bus.emit({ type: "received", callId, at: now, method: "INVITE", call: CALL });
          bus.emit({ type: "attempt-sent", callId, at: now, step: 0, target: GATEWAY });
          bus.emit({
            type: "answered",
            callId,
            at: now,
            step: 0,
            target: GATEWAY,
            status: 200,
            reason: "OK",
          });
          up.push({ callId, endAt: now + HOLD_MS });
        }
      } else if (up.length === 0) {
        clearInterval(timer);
        done();
      }
    }, TICK_MS);
  });
  // Every CDR durable before the clock stops (what the recorder owes is part of its cost).
  await recorder.close(10_000);
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const seconds = (performance.now() - t0) / 1000;
  const fsyncs = journal.stats.fsyncs;
  await journal.close();
  await rm(dir, { recursive: true, force: true });
  return {
    cpuMicrosPerCall: (cpu.user + cpu.system) / started,
    mainMicrosPerCall: (elu.active * 1000) / started,
    calls: started,
    fsyncs,
    seconds,
  };
}

async function main(): Promise<void> {
  console.log(`machine: ${cpus()[0]?.model.trim()}, ${cpus().length} cores, node ${process.version}`);
  console.log(
    `${RATE} calls/s for ${SECONDS} s, ${HOLD_MS} ms holds, journal in ${process.env.BENCH_DIR ?? tmpdir()}`,
  );
  // Warm-up (JIT) on both paths, then the measured runs, alternating.
  await run(false);
  await run(true);
  const rows: { baseline: Run; recorded: Run }[] = [];
  for (let i = 0; i < 3; i++) rows.push({ baseline: await run(false), recorded: await run(true) });
  for (const { baseline, recorded } of rows)
    console.log(
      [
        `baseline ${baseline.cpuMicrosPerCall.toFixed(0)} µs/call`,
        `with recorder ${recorded.cpuMicrosPerCall.toFixed(0)} µs/call`,
        `recorder ${(recorded.cpuMicrosPerCall - baseline.cpuMicrosPerCall).toFixed(0)} µs/call`,
        `main thread ${baseline.mainMicrosPerCall.toFixed(0)} -> ${recorded.mainMicrosPerCall.toFixed(0)} µs/call (recorder ${(recorded.mainMicrosPerCall - baseline.mainMicrosPerCall).toFixed(0)})`,
        `${recorded.calls} calls`,
        `${(recorded.fsyncs / recorded.seconds).toFixed(0)} fsyncs/s`,
        `${(recorded.calls / Math.max(1, recorded.fsyncs)).toFixed(1)} CDRs/fsync`,
      ].join(" | "),
    );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
