// Running SIPp from tests: one process per UAC or UAS, on free loopback ports, with its message
// log, error log and statistics collected in its own temporary directory. Every process started
// here is registered so that `killAllSipp()` (call it in afterAll) never leaves one behind.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { portTaken } from "./bound-ports.js";
import { freeMediaPort, freeUdpPort, waitFor } from "./free-port.js";
import { parseSippMessageLog, type SippLoggedMessage } from "./sipp-message-log.js";

export const SCENARIO_DIR = fileURLToPath(new URL("../../sipp-scenarios/", import.meta.url));

export interface SippOptions {
  /** Scenario file name in `sipp-scenarios/` (or an absolute path). */
  readonly scenario: string;
  readonly transport?: "udp" | "tcp";
  /** Local SIP port (UAS: where it listens). Default: a free one. */
  readonly port?: number;
  /** UAC only: where to send (the proxy). */
  readonly remote?: { readonly host: string; readonly port: number };
  /** -m: calls after which SIPp exits (default 1). */
  readonly calls?: number;
  /** -r: call rate per second (UAC). */
  readonly rate?: number;
  /** -l: simultaneous calls limit. */
  readonly limit?: number;
  /** -s: Request-URI user part. */
  readonly service?: string;
  /** -d: duration of <pause/> in ms. */
  readonly pauseMs?: number;
  /** -key name value, for [name] in messages. */
  readonly keys?: Readonly<Record<string, string>>;
  /** -set name value, for global variables. */
  readonly sets?: Readonly<Record<string, string>>;
  /** -lost: percentage of messages SIPp drops on purpose (retransmission tests). */
  readonly lostPercent?: number;
  /** -timeout: SIPp stops (and fails) after this many seconds whatever happens. Default 30. */
  readonly timeoutSeconds?: number;
  readonly extraArgs?: readonly string[];
}

export interface SippStats {
  readonly successfulCalls: number;
  readonly failedCalls: number;
  readonly retransmissions: number;
  readonly createdCalls: number;
}

export interface SippResult {
  /** 0: every call succeeded; 1: at least one failed; 97/99/255: see SIPp's manual. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stats: SippStats | null;
  readonly messages: readonly SippLoggedMessage[];
  readonly errors: string;
  readonly stderr: string;
}

const running = new Set<SippProcess>();

export class SippProcess {
  readonly port: number;
  readonly dir: string;
  private readonly child: ChildProcess;
  private stderrText = "";
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly options: SippOptions,
    port: number,
    dir: string,
    args: string[],
  ) {
    this.port = port;
    this.dir = dir;
    this.child = spawn("sipp", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    this.child.stderr?.on("data", (d: Buffer) => {
      this.stderrText = (this.stderrText + d.toString("latin1")).slice(-8000);
    });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        running.delete(this);
        resolve({ code, signal });
      });
      this.child.once("error", (err) => {
        this.stderrText += `spawn failed: ${err.message}`;
        running.delete(this);
        resolve({ code: null, signal: null });
      });
    });
    running.add(this);
  }

  /** Starts SIPp; for a UAS, resolves once its port is bound (so a UAC can be started right away). */
  static async start(options: SippOptions): Promise<SippProcess> {
    const transport = options.transport ?? "udp";
    const port = options.port ?? (await freeUdpPort());
    const dir = mkdtempSync(join(tmpdir(), "dialgate-sipp-"));
    const scenario = options.scenario.startsWith("/")
      ? options.scenario
      : join(SCENARIO_DIR, options.scenario);
    const args = [
      ...(options.remote ? [`${options.remote.host}:${options.remote.port}`] : []),
      "-sf",
      scenario,
      "-t",
      transport === "udp" ? "u1" : "t1",
      "-i",
      "127.0.0.1",
      "-p",
      String(port),
      "-cp",
      String(await freeUdpPort()),
      "-mp",
      String(await freeMediaPort()),
      "-m",
      String(options.calls ?? 1),
      "-nostdin",
      "-timeout",
      `${options.timeoutSeconds ?? 30}s`,
      "-timeout_error",
      "-trace_msg",
      "-message_file",
      "messages.log",
      "-trace_err",
      "-error_file",
      "errors.log",
      "-trace_stat",
      "-stf",
      "stats.csv",
      "-fd",
      "1",
    ];
    if (options.rate !== undefined) args.push("-r", String(options.rate));
    if (options.limit !== undefined) args.push("-l", String(options.limit));
    if (options.service !== undefined) args.push("-s", options.service);
    if (options.pauseMs !== undefined) args.push("-d", String(options.pauseMs));
    if (options.lostPercent !== undefined) args.push("-lost", String(options.lostPercent));
    for (const [k, v] of Object.entries(options.keys ?? {})) args.push("-key", k, v);
    for (const [k, v] of Object.entries(options.sets ?? {})) args.push("-set", k, v);
    args.push(...(options.extraArgs ?? []));
    const p = new SippProcess(options, port, dir, args);
    if (!options.remote) {
      // A UAS is ready once it holds its port, as the kernel's tables show: a bind probe would
      // hold the port for a moment and could make SIPp's own bind fail (bound-ports.ts).
      await waitFor(
        async () => p.child.exitCode !== null || (await portTaken(transport, port)),
        10_000,
        `SIPp UAS on port ${port}`,
      );
      if (p.child.exitCode !== null) throw new Error(`SIPp exited at start: ${p.stderrText}`);
    }
    return p;
  }

  /** Waits for SIPp to exit by itself (it does after -m calls or -timeout) and collects its results. */
  async wait(): Promise<SippResult> {
    const { code, signal } = await this.exited;
    return this.collect(code, signal);
  }

  /** Kills SIPp (if still running) and collects what it wrote. */
  async kill(): Promise<SippResult> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    const { code, signal } = await this.exited;
    return this.collect(code, signal);
  }

  /** Messages logged so far (while SIPp runs). */
  messagesSoFar(): SippLoggedMessage[] {
    const file = join(this.dir, "messages.log");
    return existsSync(file) ? parseSippMessageLog(readFileSync(file, "latin1")) : [];
  }

  private collect(code: number | null, signal: NodeJS.Signals | null): SippResult {
    const read = (name: string) => {
      const f = join(this.dir, name);
      return existsSync(f) ? readFileSync(f, "latin1") : "";
    };
    return {
      exitCode: code,
      signal,
      stats: parseStats(read("stats.csv")),
      messages: parseSippMessageLog(read("messages.log")),
      errors: read("errors.log"),
      stderr: this.stderrText,
    };
  }
}

/** Kills every SIPp process still running (afterAll). */
export async function killAllSipp(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill()));
}

/** The last row of SIPp's `-trace_stat` CSV (cumulative counters). */
function parseStats(csv: string): SippStats | null {
  const lines = csv.split("\n").filter((l) => l.trim().length > 0);
  if (lines.length < 2) return null;
  const head = lines[0]!.split(";");
  const last = lines[lines.length - 1]!.split(";");
  const get = (name: string) => {
    const i = head.indexOf(name);
    return i === -1 ? 0 : Number(last[i] ?? 0);
  };
  return {
    successfulCalls: get("SuccessfulCall(C)"),
    failedCalls: get("FailedCall(C)"),
    retransmissions: get("Retransmissions(C)"),
    createdCalls: get("TotalCallCreated"),
  };
}
