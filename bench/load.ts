// `npm run bench:load`: SIPp UAC -> proxy -> SIPp UAS over loopback UDP, calls with ACK and
// BYE, for three rigs measured in the same run:
//   direct   -- UAC -> UAS with no proxy (the ceiling of the rig),
//   kamailio -- Debian's Kamailio as an equivalent stateful record-routing proxy (bench/kamailio),
//   dialgate -- the native edge with the real router (dial plan, voice routing, gateway).
// For each rig it searches the highest call rate with < 0.1% failed calls and stable
// retransmissions, then measures the INVITE forwarding latency (INVITE sent by the UAC ->
// INVITE received by the UAS, from SIPp's message logs) at half that rate, and the proxy's CPU
// and peak RSS. Every run is bounded in calls and time and stops by itself.
//
// Options (environment): BENCH_RIGS=direct,kamailio,dialgate  BENCH_SECONDS=8 (per step)
//   BENCH_MAX_RATE=6000  BENCH_KAMAILIO_CHILDREN (default: Kamailio's own default children)
//   BENCH_START_RATE=250 (lower it on a busy machine, where even 250 cps fails)
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { inviteTimes, percentile, readSippTotals } from "./load/sipp-stats.js";

type Rig = "direct" | "kamailio" | "dialgate";

const repo = new URL("../..", import.meta.url).pathname;
// The same SIPp scenarios as the end-to-end tests: a tenant user calls, the gateway answers.
const scenarios = join(repo, "sipp-scenarios");
const UAC = "uac-user-call.xml";
const UAS = "uas-answer.xml";
const stepSeconds = Number(process.env.BENCH_SECONDS ?? 8);
const maxRate = Number(process.env.BENCH_MAX_RATE ?? 6000);
const startRate = Number(process.env.BENCH_START_RATE ?? 250);
const rigs = (process.env.BENCH_RIGS ?? "direct,kamailio,dialgate").split(",") as Rig[];
const kamailioChildren = process.env.BENCH_KAMAILIO_CHILDREN;
// "< 0.1% failed calls" (quality-bar.md); retransmissions count as stable while they stay
// under 1% of the calls of a step (a growing backlog shows up far above that).
const maxFailedRatio = 0.001;
const maxRetransRatio = 0.01;

async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function waitExit(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** CPU seconds (user+system) of a process and its children, from /proc. */
function cpuSeconds(pid: number): number {
  const pids = [pid, ...childPids(pid)];
  let ticks = 0;
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "latin1");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended between listing and reading
    }
  }
  return ticks / 100;
}

function childPids(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "latin1" })
      .split("\n")
      .filter((s) => s !== "")
      .map(Number);
  } catch {
    return [];
  }
}

/** Peak resident set size in MiB (VmHWM) summed over a process and its children. */
function peakRssMiB(pid: number): number {
  let kib = 0;
  for (const p of [pid, ...childPids(pid)]) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "latin1"));
      kib += Number(m?.[1] ?? 0);
    } catch {
      // ended
    }
  }
  return kib / 1024;
}

interface Proxy {
  readonly port: number;
  readonly pid: number | null;
  stop(): Promise<void>;
}

async function startProxy(rig: Rig, work: string, uasPort: number): Promise<Proxy> {
  if (rig === "direct") return { port: uasPort, pid: null, stop: async () => {} };
  const port = await freeUdpPort();
  let child: ChildProcess;
  if (rig === "kamailio") {
    child = spawn(
      "kamailio",
      [
        "-f",
        join(repo, "bench", "kamailio", "kamailio.cfg"),
        "-m",
        "1024",
        "-M",
        "32",
        "-DD",
        "-E",
        "-w",
        work,
        "-A",
        `LISTEN=udp:127.0.0.1:${port}`,
        "-A",
        `GW_URI="sip:127.0.0.1:${uasPort}"`,
        ...(kamailioChildren === undefined ? [] : ["-A", `CHILDREN=${kamailioChildren}`]),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
  } else {
    const config = join(work, "dialgate.yaml");
    writeFileSync(config, dialgateConfig(port, uasPort));
    child = spawn(
      process.execPath,
      [join(repo, "dist", "src", "cli", "main.js"), "serve", "--config", config],
      {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, DIALGATE_LOG_LEVEL: "warn" },
      },
    );
  }
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString("latin1")).slice(-4000);
  });
  await sleep(1500);
  if (child.exitCode !== null) throw new Error(`${rig} exited at start: ${stderr}`);
  return {
    port,
    pid: child.pid ?? null,
    stop: async () => {
      child.kill("SIGTERM");
      await waitExit(child, 5000);
    },
  };
}

/** The bench tenant: one trusted caller whose national number is normalized and routed to the UAS. */
function dialgateConfig(port: number, uasPort: number): string {
  return `sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${port} }]
  recordRouteHost: 127.0.0.1
  drainTimeoutSeconds: 0
gateways:
  - { fqdn: uas.bench.example, address: 127.0.0.1, sipSignalingPort: ${uasPort}, transport: udp, enabled: true, sendSipOptions: false }
tenants:
  - id: bench
    domains: [bench.example]
    trustedClientNetworks: [127.0.0.0/8]
    pstnUsages: [Bench]
    voiceRoutes:
      - { identity: All, numberPattern: '^\\+1\\d{10}$', priority: 1, onlinePstnUsages: [Bench], onlinePstnGatewayList: [uas.bench.example] }
    voiceRoutingPolicies:
      - { identity: Global, onlinePstnUsages: [Bench] }
    users:
      - { id: caller@bench.example, usageLocation: US }
`;
}

interface StepResult {
  readonly rate: number;
  readonly calls: number;
  readonly successful: number;
  readonly failed: number;
  readonly retransmissions: number;
  readonly cpuSeconds: number | null;
  readonly wallSeconds: number;
  readonly latencyUs: { p50: number; p99: number } | null;
  readonly peakRssMiB: number | null;
  /** Processes of the proxy (itself and its children) at the end of the step. */
  readonly processes: number | null;
}

async function runStep(rig: Rig, rate: number, withLatency: boolean): Promise<StepResult> {
  const work = mkdtempSync(join(tmpdir(), `dialgate-bench-${rig}-`));
  const uasPort = await freeUdpPort();
  const uacPort = await freeUdpPort();
  const calls = Math.max(200, Math.round(rate * stepSeconds));
  const trace = withLatency ? ["-trace_msg"] : [];
  const uas = spawn(
    "sipp",
    ["-sf", join(scenarios, UAS), "-i", "127.0.0.1", "-p", String(uasPort), "-nostdin", "-bg", ...trace],
    { cwd: work, stdio: "ignore" },
  );
  await waitExit(uas, 5000);
  const proxy = await startProxy(rig, work, uasPort);
  const cpuBefore = proxy.pid === null ? 0 : cpuSeconds(proxy.pid);
  const started = performance.now();
  const uac = spawn(
    "sipp",
    [
      `127.0.0.1:${proxy.port}`,
      "-sf",
      join(scenarios, UAC),
      "-key",
      "from_user",
      "caller",
      "-key",
      "from_domain",
      "bench.example",
      "-i",
      "127.0.0.1",
      "-p",
      String(uacPort),
      "-s",
      "4255550100",
      "-r",
      String(rate),
      "-m",
      String(calls),
      "-l",
      String(Math.max(100, rate * 4)),
      "-nostdin",
      "-timeout",
      `${stepSeconds * 3 + 20}s`,
      "-trace_stat",
      "-stf",
      join(work, "uac.csv"),
      "-fd",
      "1",
      ...trace,
    ],
    { cwd: work, stdio: "ignore" },
  );
  await waitExit(uac, (stepSeconds * 3 + 30) * 1000);
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = proxy.pid === null ? null : cpuSeconds(proxy.pid) - cpuBefore;
  const peakRss = proxy.pid === null ? null : Math.round(peakRssMiB(proxy.pid));
  const processes = proxy.pid === null ? null : 1 + childPids(proxy.pid).length;
  await proxy.stop();
  try {
    execFileSync("pkill", ["-f", "--", `-p ${uasPort} `]);
  } catch {
    // already gone
  }
  const totals = existsSync(join(work, "uac.csv"))
    ? readSippTotals(join(work, "uac.csv"))
    : { successful: 0, failed: calls, retransmissions: 0 };
  let latencyUs: StepResult["latencyUs"] = null;
  if (withLatency) latencyUs = inviteLatency(work);
  return { rate, calls, ...totals, cpuSeconds: cpu, wallSeconds, latencyUs, peakRssMiB: peakRss, processes };
}

function inviteLatency(work: string): { p50: number; p99: number } | null {
  const logs = execFileSync("ls", [work], { encoding: "latin1" }).split("\n");
  const uacLog = logs.find((f) => f.startsWith(`${UAC.replace(".xml", "")}_`) && f.endsWith("_messages.log"));
  const uasLog = logs.find((f) => f.startsWith(`${UAS.replace(".xml", "")}_`) && f.endsWith("_messages.log"));
  if (uacLog === undefined || uasLog === undefined) return null;
  const sent = inviteTimes(join(work, uacLog), "sent");
  // The UAS sees the proxy's Call-ID unchanged (a proxy never rewrites it).
  const received = inviteTimes(join(work, uasLog), "received");
  const deltas: number[] = [];
  for (const [callId, t0] of sent) {
    const t1 = received.get(callId);
    if (t1 !== undefined) deltas.push(t1 - t0);
  }
  return deltas.length === 0 ? null : { p50: percentile(deltas, 50), p99: percentile(deltas, 99) };
}

const passes = (s: StepResult) =>
  s.successful >= s.calls * (1 - maxFailedRatio) &&
  s.failed <= s.calls * maxFailedRatio &&
  s.retransmissions <= s.calls * maxRetransRatio;

async function searchMaxRate(rig: Rig): Promise<{ best: StepResult | null; steps: StepResult[] }> {
  const steps: StepResult[] = [];
  let low = 0;
  let high = maxRate;
  let best: StepResult | null = null;
  // Doubling from 250 cps (BENCH_START_RATE), then bisection to within 10%; at most ~9 steps per rig.
  let rate = startRate;
  while (rate <= maxRate) {
    const s = await runStep(rig, rate, false);
    steps.push(s);
    log(rig, s);
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
    const s = await runStep(rig, mid, false);
    steps.push(s);
    log(rig, s);
    if (passes(s)) {
      best = s;
      low = mid;
    } else high = mid;
  }
  return { best, steps };
}

function log(rig: Rig, s: StepResult): void {
  const cpu = s.cpuSeconds === null ? "" : ` cpu ${((s.cpuSeconds / s.wallSeconds) * 100).toFixed(0)}%`;
  process.stderr.write(
    `${rig.padEnd(8)} ${String(s.rate).padStart(5)} cps: ${s.successful}/${s.calls} ok, ${s.failed} failed, ` +
      `${s.retransmissions} retrans${cpu}${passes(s) ? "" : "  <- over the limit"}\n`,
  );
}

async function main(): Promise<void> {
  if (rigs.includes("dialgate") && !existsSync(join(repo, "dist", "src", "cli", "main.js"))) {
    throw new Error("build first: npm run build");
  }
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  process.stderr.write(
    `machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}\n`,
  );
  const results: Record<string, unknown> = {};
  for (const rig of rigs) {
    const { best } = await searchMaxRate(rig);
    if (best === null) {
      results[rig] = { maxRate: null };
      continue;
    }
    const half = await runStep(rig, Math.round(best.rate / 2), true);
    // Re-run the best rate once to read the proxy's CPU share and peak RSS.
    const peak = await runStep(rig, best.rate, false);
    results[rig] = {
      maxRateCps: best.rate,
      callsAtMax: best.calls,
      failedAtMax: best.failed,
      retransAtMax: best.retransmissions,
      halfRateCps: half.rate,
      inviteLatencyP50us: half.latencyUs?.p50 ?? null,
      inviteLatencyP99us: half.latencyUs?.p99 ?? null,
      proxyCpuPercentAtMax:
        peak.cpuSeconds === null ? null : Math.round((peak.cpuSeconds / peak.wallSeconds) * 100),
      proxyPeakRssMiB: peak.peakRssMiB,
      proxyProcesses: peak.processes,
    };
  }
  const out = { date: new Date().toISOString(), machine: { cpu, cores: cpus().length }, results };
  mkdirSync(join(repo, "bench", "results"), { recursive: true });
  writeFileSync(join(repo, "bench", "results", "load.json"), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:load failed: ${String(err)}\n`);
  process.exitCode = 1;
});
