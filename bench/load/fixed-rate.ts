// One fixed-rate run through a rig (bench:overload, bench:held): a SIPp UAS that answers
// everything, a SIPp UAC at `rate` calls/s for `calls` calls holding each `holdMs`, and what
// both sides counted. The UAS's counts tell admitted calls from refused ones: an INVITE the
// proxy refused (503 from admission control) never reaches it.
//
// BENCH_SIPP_ERRORS=1 keeps the run's folder (its path is printed) with both SIPp processes'
// error logs (`-trace_err`: each unexpected or lost message) and the gateway side's message log
// (`-trace_msg`, ~100 MB at 1,800 calls/s for 8 s), to see why admitted calls failed.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeUdpPort } from "../support/ports.js";
import { cpuSeconds, sleep, waitExit } from "../support/processes.js";
import type { RigSession, RunningProxy } from "./rigs.js";
import { readSippTotals, type SippTotals } from "./sipp-stats.js";
import { uacArgs } from "./sipp-uac.js";

export interface FixedRun {
  readonly rate: number;
  readonly calls: number;
  readonly holdMs: number;
  /** Called once the proxy is up, before the warm-up. */
  readonly onProxyStarted?: (proxy: RunningProxy) => Promise<void>;
  /** Calls (0 hold) through the proxy before `beforeCalls` and the measured run. */
  readonly warmUp?: { readonly rate: number; readonly calls: number };
  /** Called every second while the UAC runs, with the seconds since it started. */
  readonly onTick?: (seconds: number, proxy: RunningProxy) => void;
}

export interface FixedRunResult {
  readonly uac: SippTotals;
  /**
   * The gateway side's counts of the measured calls: the warm-up's completed calls (which went
   * through the same UAS) are taken off. A warm-up call that failed is not: none should at half
   * the rate, and `warmUp` shows it if one did.
   */
  readonly uas: SippTotals;
  /** The warm-up UAC's own counts (null without a warm-up). */
  readonly warmUp: SippTotals | null;
  readonly wallSeconds: number;
  readonly proxyCpuSeconds: number;
  /** CPU seconds of the rig's helpers over the same time (redis-server), 0 without any. */
  readonly helperCpuSeconds: number;
  /**
   * CPU seconds of the two SIPp processes over the same time (the UAC's as last sampled before
   * it exited): on two shared vCPUs a starved SIPp, not the proxy, can be what fails calls.
   */
  readonly uacCpuSeconds: number;
  readonly uasCpuSeconds: number;
}

export async function runFixed(
  session: RigSession,
  repo: string,
  o: FixedRun,
  beforeCalls?: (proxy: RunningProxy) => Promise<void>,
): Promise<FixedRunResult> {
  const work = mkdtempSync(join(tmpdir(), `dialgate-bench-fixed-${session.rig}-`));
  const keep = process.env.BENCH_SIPP_ERRORS === "1";
  const errorTrace = keep ? ["-trace_err"] : [];
  const uasTrace = keep ? ["-trace_err", "-trace_msg"] : [];
  const scenarios = join(repo, "sipp-scenarios");
  const uasPort = await freeUdpPort();
  const timeout = `${Math.ceil(o.calls / o.rate + o.holdMs / 1000 + 60)}s`;
  const uas = spawn(
    "sipp",
    [
      "-sf",
      join(scenarios, "uas-answer-no-ringing.xml"),
      "-i",
      "127.0.0.1",
      "-p",
      String(uasPort),
      "-nostdin",
    ].concat(["-trace_stat", "-stf", join(work, "uas.csv"), "-fd", "1", "-timeout", timeout], uasTrace),
    { cwd: work, stdio: "ignore" },
  );
  try {
    const proxy = await session.startProxy(work, uasPort);
    let uasBaseline: SippTotals = { created: 0, successful: 0, failed: 0, retransmissions: 0 };
    try {
      await o.onProxyStarted?.(proxy);
      if (o.warmUp !== undefined) {
        // Short calls through the same proxy first, so that what follows measures a proxy that
        // has carried traffic (its JIT warm, its heap grown to its working size).
        const w = o.warmUp;
        const warm = await startUac(
          proxy.port,
          work,
          scenarios,
          { ...w, holdMs: 0 },
          "warm-up.csv",
          timeout,
          [],
        );
        await waitExit(warm, (w.calls / w.rate + 90) * 1000);
        // The UAS writes its counters once a second: once they hold the warm-up's last calls,
        // they are the baseline the measured calls are counted from. Subtracting only the
        // warm-up's successes had counted a warm-up call the UAS aborted as a measured failure.
        await sleep(2500);
        uasBaseline = readSippTotals(join(work, "uas.csv"));
      }
      await beforeCalls?.(proxy);
      const cpuBefore = proxy.processes.map((p) => cpuSeconds(p.pid));
      const helperCpuBefore = session.helpers.map((p) => cpuSeconds(p.pid));
      const uasCpuBefore = cpuSeconds(uas.pid ?? 0);
      const started = performance.now();
      const uac = await startUac(proxy.port, work, scenarios, o, "uac.csv", timeout, errorTrace);
      let uacCpuSeconds = 0;
      const ticker = setInterval(() => {
        // Read while it runs: an exited process has no /proc entry left to read.
        uacCpuSeconds = Math.max(uacCpuSeconds, cpuSeconds(uac.pid ?? 0));
        o.onTick?.((performance.now() - started) / 1000, proxy);
      }, 1000);
      await waitExit(uac, (o.calls / o.rate + o.holdMs / 1000 + 90) * 1000);
      clearInterval(ticker);
      const wallSeconds = (performance.now() - started) / 1000;
      const proxyCpuSeconds = cpuSince(proxy.processes, cpuBefore);
      const helperCpuSeconds = cpuSince(session.helpers, helperCpuBefore);
      const uasCpuSeconds = cpuSeconds(uas.pid ?? 0) - uasCpuBefore;
      // The UAS writes its statistics once a second (-fd 1): let the last ones land.
      await sleep(2500);
      uas.kill("SIGTERM");
      await waitExit(uas, 5000);
      const warmUp = o.warmUp === undefined ? null : readSippTotals(join(work, "warm-up.csv"));
      const uasAll = readSippTotals(join(work, "uas.csv"));
      return {
        uac: readSippTotals(join(work, "uac.csv")),
        uas: {
          created: uasAll.created - uasBaseline.created,
          successful: uasAll.successful - uasBaseline.successful,
          failed: uasAll.failed - uasBaseline.failed,
          retransmissions: uasAll.retransmissions - uasBaseline.retransmissions,
        },
        warmUp,
        wallSeconds,
        proxyCpuSeconds,
        helperCpuSeconds,
        uacCpuSeconds,
        uasCpuSeconds,
      };
    } finally {
      await proxy.stop();
    }
  } finally {
    if (uas.exitCode === null && uas.signalCode === null) uas.kill("SIGKILL");
    if (keep) console.error(`SIPp error logs kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

/** A SIPp UAC placing `o.calls` calls at `o.rate` through the proxy (sipp-uac.ts), statistics to `csv`. */
async function startUac(
  proxyPort: number,
  work: string,
  scenarios: string,
  o: Pick<FixedRun, "rate" | "calls" | "holdMs">,
  csv: string,
  timeout: string,
  trace: readonly string[],
): Promise<ChildProcess> {
  const args = uacArgs({
    proxyPort,
    uacPort: await freeUdpPort(),
    scenarios,
    rate: o.rate,
    calls: o.calls,
    holdMs: o.holdMs,
    limit: o.rate * Math.ceil(o.holdMs / 1000 + 8),
    timeout,
    csv: join(work, csv),
    trace,
  });
  return spawn("sipp", args, { cwd: work, stdio: "ignore" });
}

/** CPU seconds the processes used since `before` (their readings, in the same order). */
function cpuSince(processes: readonly { readonly pid: number }[], before: readonly number[]): number {
  return processes.reduce((sum, p, i) => sum + Math.max(0, cpuSeconds(p.pid) - (before[i] ?? 0)), 0);
}
