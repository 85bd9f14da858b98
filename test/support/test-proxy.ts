// Starting dialgate for end-to-end tests, either in process (fast, with access to the edge's
// counters and call events) or as the built `dialgate serve` binary (what operators run).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Dialgate, startDialgate } from "../../src/app.js";
import type { CallEvent } from "../../src/calls/events.js";
import { dialgateConfigSchema } from "../../src/config/schema.js";
import type { CallRouter } from "../../src/routing/decision.js";
import type { LoadProbe } from "../../src/sip/native/admission-control.js";
import type { TimerService } from "../../src/sip/native/timer-service.js";
import type { Logger } from "../../src/util/logger.js";
import { freeSipPort, freeTcpPort, waitFor } from "./free-port.js";

export interface TestProxyOptions {
  readonly router: CallRouter;
  /** Transports to listen on (same port for both). Default udp and tcp. */
  readonly transports?: readonly ("udp" | "tcp")[];
  /** RFC 3261 timer base; tests shorten T1 so that transaction timers end quickly. */
  readonly timers?: { t1Ms?: number; t2Ms?: number; t4Ms?: number };
  readonly maxMessageBytes?: number;
  /** Transaction and proxy timers (a ManualTimerService drives Timer C without waiting 3 minutes). */
  readonly timerService?: TimerService;
  /** `sip.tls`: also listen for TLS on `tlsPort` (TLS runs over TCP, so it needs its own port). */
  readonly tls?: Readonly<Record<string, unknown>>;
  /** More `sip` settings (flood, limits, dnsServers...), merged over the defaults above. */
  readonly sip?: Readonly<Record<string, unknown>>;
  /**
   * Admission control's load signal. Without one, admission control is off in tests: a test
   * process on a busy machine must not shed its own calls.
   */
  readonly loadProbe?: LoadProbe;
  readonly random?: () => number;
  /** Where the proxy logs (default: nowhere); a test that checks a log line passes its own. */
  readonly logger?: Logger;
}

export interface TestProxy {
  readonly dialgate: Dialgate;
  readonly host: "127.0.0.1";
  readonly port: number;
  /** The TLS listener's port (0 without `tls`). */
  readonly tlsPort: number;
  /** Every call event emitted so far, in order. */
  readonly events: CallEvent[];
  /** Waits until no transaction, call, dialog or timer is left (leak check). */
  settled(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the native edge in process on a free loopback port. */
export async function startTestProxy(options: TestProxyOptions): Promise<TestProxy> {
  const port = await freeSipPort();
  const tlsPort = options.tls ? await freeTcpPort() : 0;
  const config = dialgateConfigSchema.parse({
    sip: {
      listen: [
        ...(options.transports ?? ["udp", "tcp"]).map((transport) => ({
          transport,
          host: "127.0.0.1",
          port,
        })),
        ...(options.tls ? [{ transport: "tls", host: "127.0.0.1", port: tlsPort }] : []),
      ],
      ...(options.tls ? { tls: options.tls } : {}),
      recordRouteHost: "127.0.0.1",
      timers: { t1Ms: 500, t2Ms: 4000, t4Ms: 5000, ...options.timers },
      ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}),
      drainTimeoutSeconds: 0,
      overload: { enabled: options.loadProbe !== undefined },
      // A scripted router has no gateways or trusted networks to exempt: the test's SIPp and
      // sockets, all on loopback, would otherwise be flood-limited. Flood tests pass their own.
      flood: { allow: ["127.0.0.0/8", "::1/128"] },
      ...options.sip,
    },
    http: { port: 0 },
    // Each proxy journals its CDRs in its own temp directory (never the repo's var/).
    cdr: { file: join(mkdtempSync(join(tmpdir(), "dialgate-cdr-")), "cdr.jsonl") },
  });
  const dialgate = await startDialgate(config, {
    router: options.router,
    ...(options.timerService ? { timerService: options.timerService } : {}),
    ...(options.loadProbe ? { loadProbe: options.loadProbe } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const events: CallEvent[] = [];
  dialgate.events.subscribe((e) => events.push(e));
  return {
    dialgate,
    host: "127.0.0.1",
    port,
    tlsPort,
    events,
    settled: (timeoutMs = 30_000) =>
      waitFor(
        () => {
          const s = dialgate.stats;
          return s.serverTransactions === 0 && s.clientTransactions === 0 && s.calls === 0 && s.timers === 0;
        },
        timeoutMs,
        "the proxy to settle (no transaction, call or timer left)",
      ),
    stop: () => dialgate.stop(),
  };
}

export interface BinaryProxy {
  readonly port: number;
  readonly process: ChildProcess;
  /** stderr so far (pino JSON lines). */
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  terminate(): Promise<number | null>;
  /** The configuration file the proxy was started with, and its temporary directory. */
  readonly configFile: string;
  readonly dir: string;
  /** Rewrites the configuration file (`@PORT@` replaced as at start), e.g. before a reload. */
  rewriteConfig(configYaml: string): void;
}

const MAIN = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));

/**
 * Starts `node dist/src/cli/main.js serve --config <file>` (run `npm run build` first; `npm test`
 * does) with `configYaml`, in which `@PORT@` is replaced by a free port. Resolves once the
 * proxy logged that it is listening.
 */
export async function startBinaryProxy(
  configYaml: string,
  options: { readonly args?: readonly string[] } = {},
): Promise<BinaryProxy> {
  const port = await freeSipPort();
  const dir = mkdtempSync(join(tmpdir(), "dialgate-serve-"));
  const file = join(dir, "dialgate.yaml");
  writeFileSync(file, configYaml.replaceAll("@PORT@", String(port)));
  // cwd: the temp dir, so the default relative cdr.file (var/cdr.jsonl) lands there.
  // "@DIR@" in an argument is the temporary directory (a pid file there, say).
  const args = (options.args ?? []).map((a) => a.replaceAll("@DIR@", dir));
  const child = spawn(process.execPath, [MAIN, "serve", "--config", file, ...args], {
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    await waitFor(
      () => stderr.includes("dialgate listening on") || child.exitCode !== null,
      // Several worker processes (sip.workers) on a loaded 2-vCPU machine take a while.
      30_000,
      "dialgate to listen",
    );
  } catch (err) {
    // Never leave a half-started proxy behind: it would hold its ports for the tests after.
    child.kill("SIGKILL");
    throw err;
  }
  if (child.exitCode !== null) throw new Error(`dialgate serve exited: ${stderr}`);
  return {
    port,
    process: child,
    output: () => stderr,
    configFile: file,
    dir,
    rewriteConfig: (yaml) => writeFileSync(file, yaml.replaceAll("@PORT@", String(port))),
    terminate: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
