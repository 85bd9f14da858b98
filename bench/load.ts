// `npm run bench:load`: SIPp UAC -> proxy -> SIPp UAS over loopback UDP, calls with ACK and
// BYE, for the rigs of bench/load/rigs.ts measured in the same run:
//   direct         -- UAC -> UAS with no proxy (the ceiling of the rig),
//   kamailio       -- Debian's Kamailio as an equivalent stateful record-routing proxy (bench/kamailio),
//   dialgate       -- the native edge with the real router (dial plan, voice routing, gateway),
//   dialgate-redis -- the same with the routing objects, capacity leases and CDR stream in a real
//                     redis-server the bench starts (issue #14: the Redis store's cost),
//   drachtio       -- dialgate on the drachtio edge behind a real drachtio-server.
// For each rig it searches the highest call rate with < 0.1% failed calls
// (BENCH_MAX_FAILED_PERCENT) and stable retransmissions, then measures latency at half that rate -- INVITE forwarding (INVITE sent by
// the UAC -> INVITE received by the UAS, same Call-ID) and INVITE -> 200 as the UAC sees it,
// from SIPp's message logs -- and the proxy's CPU and peak RSS. Every run is bounded in calls and
// time and stops by itself; every process it starts is stopped by its pid. A proxy (or
// redis-server) that dies during a step fails the step, and its last stderr lines are printed.
//
// Options (environment): BENCH_RIGS=direct,kamailio,dialgate,drachtio (also dialgate-redis,
//   dialgate-unrecorded)
//   BENCH_SECONDS=8 (per step)  BENCH_MAX_RATE=6000  BENCH_START_RATE=250 (lower it on a busy
//   machine, where even 250 cps fails)  BENCH_KAMAILIO_CHILDREN (default: Kamailio's own default)
//   BENCH_DIALGATE_WORKERS=N (writes `sip.workers: N` for the native-edge dialgate rigs)
//   DRACHTIO_BIN (the drachtio rig's binary; default: `drachtio` on PATH, then ../shared/drachtio)
//   BENCH_WARMUP_SECONDS=0 (uncounted calls at half the step's rate through the freshly started
//   proxy before each step, every rig alike; 0: each step measures a proxy started just before)
//   BENCH_LATENCY_RATE (the rate of the latency step, every rig alike; default: half of each
//   rig's own maximum)  BENCH_MAX_FAILED_PERCENT=0.1 (a step passes under this share of failed
//   calls; 1 is issue #16's measure)
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import {
  dialgateWorkersFromEnv,
  openRig,
  parseRigs,
  type Rig,
  type RigSession,
  type RigSettings,
  type RunningProxy,
} from "./load/rigs.js";
import {
  inviteAnsweredTimes,
  inviteTimes,
  pairedDeltas,
  percentile,
  readSippTotals,
} from "./load/sipp-stats.js";
import { UAC_SCENARIO, uacArgs } from "./load/sipp-uac.js";
import { freeUdpPort } from "./support/ports.js";
import { cpuSeconds, peakRssMiB, processTree, requireCommand, sleep, waitExit } from "./support/processes.js";

const repo = new URL("../..", import.meta.url).pathname;
// The same SIPp scenarios as the end-to-end tests: a tenant user calls, the gateway answers.
const scenarios = join(repo, "sipp-scenarios");
const UAC = UAC_SCENARIO;
const UAS = "uas-answer-no-ringing.xml";
const stepSeconds = Number(process.env.BENCH_SECONDS ?? 8);
const maxRate = Number(process.env.BENCH_MAX_RATE ?? 6000);
const startRate = Number(process.env.BENCH_START_RATE ?? 250);
const rigs = parseRigs(process.env.BENCH_RIGS ?? "direct,kamailio,dialgate,drachtio");
const warmUpSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 0);
const latencyRateText = process.env.BENCH_LATENCY_RATE;
const latencyRate = latencyRateText === undefined || latencyRateText === "" ? null : Number(latencyRateText);
const dialgateWorkers = dialgateWorkersFromEnv();
const settings: RigSettings = {
  repo,
  kamailioChildren: process.env.BENCH_KAMAILIO_CHILDREN,
  dialgateWorkers,
};
// "< 0.1% failed calls" (quality-bar.md); retransmissions count as stable while they stay
// under 1% of the calls of a step (a growing backlog shows up far above that).
// BENCH_MAX_FAILED_PERCENT=1 applies issue #16's own measure instead (< 1% failed calls and < 1
// retransmission per 100 calls); a refused INVITE (503 from admission control) counts as failed
// under both.
const maxFailedPercentText = process.env.BENCH_MAX_FAILED_PERCENT;
const maxFailedRatio =
  maxFailedPercentText === undefined || maxFailedPercentText === ""
    ? 0.001
    : Number(maxFailedPercentText) / 100;
if (!(maxFailedRatio >= 0 && maxFailedRatio < 1))
  throw new Error(`BENCH_MAX_FAILED_PERCENT must be a percentage in [0, 100), not '${maxFailedPercentText}'`);
const maxRetransRatio = 0.01;

interface Percentiles {
  readonly p50: number;
  readonly p99: number;
}

interface StepResult {
  readonly rate: number;
  readonly calls: number;
  readonly successful: number;
  readonly failed: number;
  readonly retransmissions: number;
  /** CPU seconds of the proxy's processes (and their children), null for direct. */
  readonly cpuSeconds: number | null;
  /** The same, per role (dialgate, kamailio, drachtio-server) and for the helpers (redis-server). */
  readonly cpuByRole: Record<string, number>;
  readonly wallSeconds: number;
  /** INVITE sent by the UAC -> received by the UAS (µs); null where the Call-ID changes (B2BUA). */
  readonly forwardingUs: Percentiles | null;
  /** INVITE sent by the UAC -> its 200 OK received by the UAC (µs). */
  readonly answerUs: Percentiles | null;
  readonly peakRssMiB: number | null;
  /** Processes of the proxy (each with its children) at the end of the step. */
  readonly processes: number | null;
  /** A proxy or helper process that ended during the step (a crash), with its last stderr. */
  readonly processFailure: string | null;
  /** The step's files (configs, logs), kept when a process failed. */
  readonly work: string;
}

/** Starts SIPp in the background (-bg) and returns the pid it reports. */
async function startBackgroundSipp(args: readonly string[], cwd: string): Promise<number> {
  const child = spawn("sipp", [...args, "-bg"], { cwd, stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString("latin1");
  });
  await waitExit(child, 5000);
  const pid = /PID=\[(\d+)\]/.exec(out)?.[1];
  if (pid === undefined) throw new Error(`sipp -bg did not report its pid: ${out.trim()}`);
  return Number(pid);
}

/** SIGTERM to a process this bench started, then waits (up to 3 s) until it is gone. */
async function stopPid(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return; // already gone
  }
  for (let i = 0; i < 60 && existsSync(`/proc/${pid}`); i++) await sleep(50);
}

async function runStep(session: RigSession, rate: number, withLatency: boolean): Promise<StepResult> {
  const work = mkdtempSync(join(tmpdir(), `dialgate-bench-${session.rig}-`));
  const uasPort = await freeUdpPort();
  const calls = Math.max(200, Math.round(rate * stepSeconds));
  const trace = withLatency ? ["-trace_msg"] : [];
  const uasPid = await startBackgroundSipp(
    ["-sf", join(scenarios, UAS), "-i", "127.0.0.1", "-p", String(uasPort), "-nostdin", ...trace],
    work,
  );
  let measured: Measured;
  try {
    const proxy = await session.startProxy(work, uasPort);
    try {
      measured = await runCalls(session, proxy, work, rate, calls, trace);
    } finally {
      await proxy.stop();
    }
  } finally {
    // SIPp writes its message log as it exits: the UAS is stopped before its log is read.
    await stopPid(uasPid);
  }
  const totals = existsSync(join(work, "uac.csv"))
    ? readSippTotals(join(work, "uac.csv"))
    : { created: 0, successful: 0, failed: calls, retransmissions: 0 };
  const latency = withLatency ? latencies(work) : { forwardingUs: null, answerUs: null };
  if (measured.processFailure === null) rmSync(work, { recursive: true, force: true });
  return { ...measured, ...totals, ...latency, work };
}

type Measured = Omit<
  StepResult,
  "successful" | "failed" | "retransmissions" | "forwardingUs" | "answerUs" | "work"
>;

/** One step's calls through a started proxy, with the CPU, RSS and processes read from /proc. */
async function runCalls(
  session: RigSession,
  proxy: RunningProxy,
  work: string,
  rate: number,
  calls: number,
  trace: readonly string[],
): Promise<Measured> {
  const uacPort = await freeUdpPort();
  if (warmUpSeconds > 0) {
    // Uncounted calls at half the step's rate first, through the same proxy and UAS: the step
    // then measures a proxy in service (JIT warm, heap grown), not one started a second ago.
    const warmRate = Math.max(1, Math.round(rate / 2));
    const warm = spawn(
      "sipp",
      stepUac(
        proxy.port,
        await freeUdpPort(),
        warmRate,
        warmRate * warmUpSeconds,
        join(work, "warm-up.csv"),
        [],
      ),
      { cwd: work, stdio: "ignore" },
    );
    await waitExit(warm, (warmUpSeconds * 3 + 30) * 1000);
    await sleep(1000);
  }
  const watched = [...proxy.processes, ...session.helpers];
  const cpuBefore = watched.map((p) => cpuSeconds(p.pid));
  const started = performance.now();
  const uac = spawn("sipp", stepUac(proxy.port, uacPort, rate, calls, join(work, "uac.csv"), trace), {
    cwd: work,
    stdio: "ignore",
  });
  await waitExit(uac, (stepSeconds * 3 + 30) * 1000);
  const wallSeconds = (performance.now() - started) / 1000;
  const processFailure = watched.map((p) => p.failure()).find((f) => f !== null) ?? null;
  // A process that is gone has no /proc entry left: its CPU counts as 0 from then on.
  const cpuUsed = watched.map((p, i) => Math.max(0, cpuSeconds(p.pid) - (cpuBefore[i] ?? 0)));
  const cpuByRole: Record<string, number> = {};
  watched.forEach((p, i) => {
    cpuByRole[p.role] = (cpuByRole[p.role] ?? 0) + (cpuUsed[i] ?? 0);
  });
  const own = proxy.processes;
  return {
    rate,
    calls,
    cpuSeconds: own.length === 0 ? null : cpuUsed.slice(0, own.length).reduce((a, b) => a + b, 0),
    cpuByRole,
    wallSeconds,
    peakRssMiB: own.length === 0 ? null : Math.round(own.reduce((sum, p) => sum + peakRssMiB(p.pid), 0)),
    processes: own.length === 0 ? null : own.reduce((n, p) => n + processTree(p.pid).length, 0),
    processFailure,
  };
}

/** The step's UAC: `calls` calls at `rate` through the proxy (sipp-uac.ts), statistics to `csv`. */
function stepUac(
  proxyPort: number,
  uacPort: number,
  rate: number,
  calls: number,
  csv: string,
  trace: readonly string[],
) {
  const limit = Math.max(100, rate * 4);
  return uacArgs({
    proxyPort,
    uacPort,
    scenarios,
    rate,
    calls,
    limit,
    timeout: `${stepSeconds * 3 + 20}s`,
    csv,
    trace,
  });
}

function latencies(work: string): Pick<StepResult, "forwardingUs" | "answerUs"> {
  const logs = readdirSync(work);
  const uacLog = logs.find((f) => f.startsWith(`${UAC.replace(".xml", "")}_`) && f.endsWith("_messages.log"));
  const uasLog = logs.find((f) => f.startsWith(`${UAS.replace(".xml", "")}_`) && f.endsWith("_messages.log"));
  if (uacLog === undefined) return { forwardingUs: null, answerUs: null };
  const sent = inviteTimes(join(work, uacLog), "sent");
  const answered = inviteAnsweredTimes(join(work, uacLog), "received");
  // A proxy never rewrites the Call-ID, so the UAS's INVITE pairs with the UAC's; a B2BUA's has its own.
  const forwarded =
    uasLog === undefined ? [] : pairedDeltas(sent, inviteTimes(join(work, uasLog), "received"));
  return { forwardingUs: summary(forwarded), answerUs: summary(pairedDeltas(sent, answered)) };
}

function summary(deltas: readonly number[]): Percentiles | null {
  return deltas.length === 0 ? null : { p50: percentile(deltas, 50), p99: percentile(deltas, 99) };
}

const passes = (s: StepResult) =>
  s.processFailure === null &&
  s.successful >= s.calls * (1 - maxFailedRatio) &&
  s.failed <= s.calls * maxFailedRatio &&
  s.retransmissions <= s.calls * maxRetransRatio;

async function searchMaxRate(session: RigSession): Promise<{ best: StepResult | null; steps: StepResult[] }> {
  const steps: StepResult[] = [];
  let low = 0;
  let high = maxRate;
  let best: StepResult | null = null;
  // Doubling from 250 cps (BENCH_START_RATE), then bisection to within 10%; at most ~9 steps per rig.
  let rate = startRate;
  while (rate <= maxRate) {
    const s = await runStep(session, rate, false);
    steps.push(s);
    log(session.rig, s);
    if (!passes(s)) {
      high = rate;
      break;
    }
    best = s;
    low = rate;
    rate *= 2;
  }
  if (best === null) return { best, steps };
  while (high - low > low * 0.1 && steps.length < 9) {
    const mid = Math.round((low + high) / 2);
    const s = await runStep(session, mid, false);
    steps.push(s);
    log(session.rig, s);
    if (passes(s)) {
      best = s;
      low = mid;
    } else high = mid;
  }
  return { best, steps };
}

const percent = (cpu: number, s: StepResult) => Math.round((cpu / s.wallSeconds) * 100);

function log(rig: Rig, s: StepResult, note = ""): void {
  const cpu = s.cpuSeconds === null ? "" : ` cpu ${percent(s.cpuSeconds, s)}%`;
  const roles = Object.entries(s.cpuByRole);
  const split = roles.length > 1 ? ` (${roles.map(([r, c]) => `${r} ${percent(c, s)}%`).join(", ")})` : "";
  const procs = s.processes === null ? "" : `, ${s.processes} process${s.processes === 1 ? "" : "es"}`;
  process.stderr.write(
    `${rig.padEnd(14)} ${String(s.rate).padStart(5)} cps: ${s.successful}/${s.calls} ok, ${s.failed} failed, ` +
      `${s.retransmissions} retrans${cpu}${split}${procs}${passes(s) ? "" : "  <- over the limit"}${note}\n`,
  );
  if (s.processFailure !== null)
    process.stderr.write(
      `  ${s.processFailure.replaceAll("\n", "\n  ")}\n  (step files kept in ${s.work})\n`,
    );
}

async function measureRig(session: RigSession): Promise<Record<string, unknown>> {
  const { best, steps } = await searchMaxRate(session);
  const crash = steps.find((s) => s.processFailure !== null)?.processFailure ?? null;
  if (best === null) return { maxRateCps: null, processFailure: crash };
  // Latency at half the rig's own maximum, or at BENCH_LATENCY_RATE for every rig alike (the
  // issue's measure is 500 calls/s).
  const half = await runStep(session, latencyRate ?? Math.max(1, Math.round(best.rate / 2)), true);
  // Re-run the best rate once to read the proxy's CPU share and peak RSS. Logged and reported
  // with whether it passed again: a second sample of the maximum, so a rig that passed its best
  // step by luck shows it (and a failed re-run's CPU is not mistaken for the CPU at the maximum).
  const peak = await runStep(session, best.rate, false);
  log(session.rig, peak, "  (re-run of the maximum)");
  const cpuPercentByRole: Record<string, number> = {};
  for (const [role, cpu] of Object.entries(peak.cpuByRole)) cpuPercentByRole[role] = percent(cpu, peak);
  return {
    maxRateCps: best.rate,
    callsAtMax: best.calls,
    failedAtMax: best.failed,
    retransAtMax: best.retransmissions,
    halfRateCps: half.rate,
    inviteLatencyP50us: half.forwardingUs?.p50 ?? null,
    inviteLatencyP99us: half.forwardingUs?.p99 ?? null,
    inviteTo200P50us: half.answerUs?.p50 ?? null,
    inviteTo200P99us: half.answerUs?.p99 ?? null,
    maxRateRerunPassed: passes(peak),
    proxyCpuPercentAtMax: peak.cpuSeconds === null ? null : percent(peak.cpuSeconds, peak),
    cpuPercentByRoleAtMax: cpuPercentByRole,
    proxyPeakRssMiB: peak.peakRssMiB,
    proxyProcesses: peak.processes,
    processFailure: crash ?? half.processFailure ?? peak.processFailure,
  };
}

async function main(): Promise<void> {
  if (rigs.some((r) => r.startsWith("dialgate") || r === "drachtio")) {
    if (!existsSync(join(repo, "dist", "src", "cli", "main.js")))
      throw new Error("build first: npm run build");
  }
  requireCommand("sipp", ["-v"], "apt-get install sip-tester");
  if (rigs.includes("kamailio")) requireCommand("kamailio", ["-v"], "apt-get install kamailio");
  if (rigs.includes("dialgate-redis"))
    requireCommand("redis-server", ["--version"], "apt-get install redis-server");
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  process.stderr.write(
    `machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}` +
      `${dialgateWorkers === undefined ? "" : `, dialgate sip.workers ${dialgateWorkers}`}` +
      `, a step passes with < ${maxFailedRatio * 100}% failed calls\n`,
  );
  const results: Record<string, unknown> = {};
  for (const rig of rigs) {
    const session = await openRig(rig, settings);
    try {
      results[rig] = await measureRig(session);
    } finally {
      await session.close();
    }
  }
  const out = {
    date: new Date().toISOString(),
    machine: { cpu, cores: cpus().length },
    settings: {
      stepSeconds,
      startRate,
      maxRate,
      warmUpSeconds,
      dialgateWorkers: dialgateWorkers ?? null,
      maxFailedPercent: maxFailedRatio * 100,
    },
    results,
  };
  mkdirSync(join(repo, "bench", "results"), { recursive: true });
  writeFileSync(join(repo, "bench", "results", "load.json"), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:load failed: ${String(err)}\n`);
  process.exitCode = 1;
});
