// Child processes of the benchmarks: waiting for an exit with a deadline, and what /proc says
// about a process tree (CPU time, peak RSS, number of processes). Linux only, like the rigs.
import { type ChildProcess, execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves with the exit code; SIGKILLs the process if it has not exited within `timeoutMs`. */
export function waitExit(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function terminate(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  await waitExit(child, graceMs);
}

export function childPids(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "latin1" })
      .split("\n")
      .filter((s) => s !== "")
      .map(Number);
  } catch {
    return [];
  }
}

/** The process and its direct children (worker processes, Kamailio's children). */
export function processTree(pid: number): number[] {
  return [pid, ...childPids(pid)];
}

/** CPU seconds (user+system) of a process and its children, from /proc. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
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

/** Peak resident set size in MiB (VmHWM) summed over a process and its children. */
export function peakRssMiB(pid: number): number {
  let kib = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "latin1"));
      kib += Number(m?.[1] ?? 0);
    } catch {
      // ended
    }
  }
  return kib / 1024;
}

/**
 * A long-running child the bench watches (a proxy, drachtio-server, redis-server): the tail of
 * its stderr, and whether it ended on its own -- a crash during a step is reported, not
 * mistaken for a slow proxy.
 */
export class WatchedProcess {
  private stderrTail = "";
  private stopping = false;
  private spawnError: string | null = null;

  constructor(
    readonly role: string,
    private readonly child: ChildProcess,
    /** Where else to look when it fails (its log file). */
    private readonly logHint = "",
  ) {
    child.stderr?.on("data", (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString("utf8")).slice(-4000);
    });
    child.once("error", (err) => {
      this.spawnError = err.message;
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.role} has no pid (did it start?)`);
    return this.child.pid;
  }

  get exited(): boolean {
    return this.spawnError !== null || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  get stderr(): string {
    return this.stderrTail.trim();
  }

  /** Null while it runs or once stop() was asked; otherwise how it ended and its last words. */
  failure(): string | null {
    if (this.stopping || !this.exited) return null;
    const how =
      this.spawnError ??
      (this.child.exitCode !== null ? `code ${this.child.exitCode}` : `signal ${this.child.signalCode}`);
    // The last 1.5 kB of stderr, from the start of a line.
    const text = this.stderr;
    const cut = text.length > 1500 ? text.indexOf("\n", text.length - 1500) : -1;
    const last = text.length <= 1500 ? text : text.slice(cut < 0 ? text.length - 1500 : cut + 1);
    return `${this.role} ended (${how})${this.logHint === "" ? "" : `, log ${this.logHint}`}${last === "" ? "" : `:\n${last}`}`;
  }

  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    await terminate(this.child, graceMs);
  }
}

/** Throws a clear error when a program the bench runs is not installed. */
export function requireCommand(command: string, args: readonly string[], hint: string): void {
  const r = spawnSync(command, args, { stdio: "ignore" });
  if (r.error !== undefined)
    throw new Error(`${command} is needed and could not be run (${r.error.message}): ${hint}`);
}
