// The proxies `bench:load` measures, one "rig" each, between the same SIPp UAC and UAS:
//   direct          UAC -> UAS, no proxy (the ceiling of the rig)
//   kamailio        Debian's Kamailio as an equivalent stateful record-routing proxy (bench/kamailio)
//   dialgate        `dialgate serve`, native edge, embedded store (routing objects in its file)
//   dialgate-unrecorded  the same instance with its call recorder unsubscribed (no CDRs; the
//                   journal open and idle): the recorder-off side of issue #12's A/B
//   dialgate-redis  the same, but the routing objects pushed to a real redis-server with
//                   `dialgate config push` and the instance's file holding only sip/http/redis/cdr:
//                   capacity leases and the CDR stream (and registrations) go through Redis
//   drachtio        dialgate on the drachtio edge behind a real drachtio-server (embedded store)
// A rig is opened once (redis-server lives for all its steps) and starts a fresh proxy per step.
import { spawn } from "node:child_process";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BenchDrachtioServer, findDrachtioBinary } from "../support/drachtio-server.js";
import { freeTcpPort, freeUdpPort } from "../support/ports.js";
import { sleep, WatchedProcess, waitExit } from "../support/processes.js";
import { BenchRedisServer } from "../support/redis-server.js";
import { embeddedConfig, pushedRoutingFile, redisInstanceConfig } from "./dialgate-config.js";

export const RIGS = [
  "direct",
  "kamailio",
  "dialgate",
  "dialgate-unrecorded",
  "dialgate-redis",
  "drachtio",
] as const;
export type Rig = (typeof RIGS)[number];

export function parseRigs(text: string): Rig[] {
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const n of names)
    if (!(RIGS as readonly string[]).includes(n))
      throw new Error(`BENCH_RIGS: unknown rig '${n}' (known: ${RIGS.join(", ")})`);
  return names as Rig[];
}

/**
 * BENCH_DIALGATE_WORKERS: `sip.workers` for the native-edge dialgate rigs; unset or empty writes
 * none (an empty value had been read as 0, which the configuration refuses).
 */
export function dialgateWorkersFromEnv(text = process.env.BENCH_DIALGATE_WORKERS): number | undefined {
  if (text === undefined || text === "") return undefined;
  const workers = Number(text);
  if (!(Number.isInteger(workers) && workers >= 1))
    throw new Error(`BENCH_DIALGATE_WORKERS must be a whole number >= 1, not '${text}'`);
  return workers;
}

export interface RigSettings {
  readonly repo: string;
  /** BENCH_KAMAILIO_CHILDREN (undefined: Kamailio's default). */
  readonly kamailioChildren: string | undefined;
  /** BENCH_DIALGATE_WORKERS: `sip.workers` for the native-edge dialgate rigs (undefined: not written). */
  readonly dialgateWorkers: number | undefined;
}

export interface RunningProxy {
  /** Where the UAC sends its INVITEs. */
  readonly port: number;
  /**
   * The proxy's own processes, whose CPU and peak RSS are read from /proc with their direct
   * children (worker processes, Kamailio's children): dialgate, kamailio, drachtio-server.
   * Empty for direct.
   */
  readonly processes: readonly WatchedProcess[];
  stop(): Promise<void>;
}

export interface RigSession {
  readonly rig: Rig;
  /** Measured beside the proxy but not counted as the proxy: redis-server. */
  readonly helpers: readonly WatchedProcess[];
  startProxy(work: string, uasPort: number): Promise<RunningProxy>;
  close(): Promise<void>;
}

export async function openRig(rig: Rig, settings: RigSettings): Promise<RigSession> {
  switch (rig) {
    case "direct":
      return {
        rig,
        helpers: [],
        startProxy: async (_work, uasPort) => ({ port: uasPort, processes: [], stop: async () => {} }),
        close: async () => {},
      };
    case "kamailio":
      return {
        rig,
        helpers: [],
        startProxy: (work, uasPort) => startKamailio(settings, work, uasPort),
        close: async () => {},
      };
    case "dialgate":
    case "dialgate-unrecorded":
      return {
        rig,
        helpers: [],
        startProxy: async (work, uasPort) => {
          const port = await freeUdpPort();
          const httpPort = await freeTcpPort();
          const config = embeddedConfig(
            { port, workers: settings.dialgateWorkers },
            httpPort,
            join(work, "cdr.jsonl"),
            uasPort,
          );
          const entry = rig === "dialgate" ? CLI_ENTRY : join("dist", "bench", "load", "serve-unrecorded.js");
          const dialgate = await startDialgate(settings.repo, work, config, httpPort, entry);
          return { port, processes: [dialgate], stop: () => dialgate.stop() };
        },
        close: async () => {},
      };
    case "dialgate-redis": {
      const redis = await BenchRedisServer.start();
      return {
        rig,
        helpers: [redis.process],
        startProxy: async (work, uasPort) => {
          // The gateway (the step's UAS port) is a routing object: pushed as a new version each step.
          const routingFile = join(work, "routing.yaml");
          writeFileSync(routingFile, pushedRoutingFile(uasPort));
          await runCli(settings.repo, ["config", "push", "--config", routingFile, "--redis", redis.url]);
          const port = await freeUdpPort();
          const httpPort = await freeTcpPort();
          const config = redisInstanceConfig(
            { port, workers: settings.dialgateWorkers },
            httpPort,
            join(work, "cdr.jsonl"),
            redis.url,
          );
          const dialgate = await startDialgate(settings.repo, work, config, httpPort);
          return { port, processes: [dialgate], stop: () => dialgate.stop() };
        },
        close: () => redis.stop(),
      };
    }
    case "drachtio": {
      const bin = findDrachtioBinary(settings.repo);
      return {
        rig,
        helpers: [],
        startProxy: async (work, uasPort) => {
          const drachtio = await BenchDrachtioServer.start(bin, join(work, "drachtio"));
          try {
            const httpPort = await freeTcpPort();
            // No sip.workers: drachtio-server owns the SIP sockets (workers apply to the native edge).
            const config = embeddedConfig(
              { port: drachtio.sipPort, drachtio: { port: drachtio.adminPort, secret: drachtio.secret } },
              httpPort,
              join(work, "cdr.jsonl"),
              uasPort,
            );
            const dialgate = await startDialgate(settings.repo, work, config, httpPort);
            return {
              port: drachtio.sipPort,
              processes: [drachtio.process, dialgate],
              stop: async () => {
                await dialgate.stop();
                await drachtio.stop();
              },
            };
          } catch (err) {
            await drachtio.stop();
            throw err;
          }
        },
        close: async () => {},
      };
    }
  }
}

async function startKamailio(settings: RigSettings, work: string, uasPort: number): Promise<RunningProxy> {
  const port = await freeUdpPort();
  const child = spawn(
    "kamailio",
    [
      "-f",
      join(settings.repo, "bench", "kamailio", "kamailio.cfg"),
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
      ...(settings.kamailioChildren === undefined ? [] : ["-A", `CHILDREN=${settings.kamailioChildren}`]),
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const kamailio = new WatchedProcess("kamailio", child);
  await sleep(1500);
  if (kamailio.exited) throw new Error(`kamailio exited at start: ${kamailio.stderr}`);
  return { port, processes: [kamailio], stop: () => kamailio.stop() };
}

/** `dialgate serve` on a generated file; resolves once GET /readyz answers 200 (SIP, CDR log, Redis, drachtio). */
const CLI_ENTRY = join("dist", "src", "cli", "main.js");

async function startDialgate(
  repo: string,
  work: string,
  configText: string,
  httpPort: number,
  entry = CLI_ENTRY,
): Promise<WatchedProcess> {
  const config = join(work, "dialgate.yaml");
  writeFileSync(config, configText);
  // BENCH_DIALGATE_NODE_ARGS: extra node flags for the proxy, e.g. `--cpu-prof --cpu-prof-dir=prof`
  // (Node refuses --cpu-prof in NODE_OPTIONS).
  // The young-generation cap dialgate is launched with (src/cli/main.ts, npm start, Dockerfile)
  // comes first, so that a flag given here overrides it.
  const nodeArgs = [
    "--max-semi-space-size=8",
    ...(process.env.BENCH_DIALGATE_NODE_ARGS ?? "").split(" ").filter((a) => a !== ""),
  ];
  // With BENCH_SIPP_ERRORS=1 the step's directory is kept, and with it the proxy's log.
  const log = process.env.BENCH_SIPP_ERRORS === "1" ? openSync(join(work, "dialgate.log"), "a") : null;
  const child = spawn(
    process.execPath,
    [...nodeArgs, join(repo, entry), ...(entry === CLI_ENTRY ? ["serve"] : []), "--config", config],
    {
      cwd: work,
      stdio: ["ignore", log ?? "ignore", "pipe"],
      env: { ...process.env, DIALGATE_LOG_LEVEL: "warn" },
    },
  );
  // The child has its own copy of the descriptor; this one would stay open for every step.
  if (log !== null) closeSync(log);
  const dialgate = new WatchedProcess("dialgate", child);
  const deadline = Date.now() + 30_000;
  while (!(await ready(httpPort))) {
    if (dialgate.exited || Date.now() > deadline) {
      const stderr = dialgate.stderr;
      await dialgate.stop();
      throw new Error(`dialgate did not become ready (${config}): ${stderr}`);
    }
    await sleep(100);
  }
  return dialgate;
}

async function ready(httpPort: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${httpPort}/readyz`, { signal: AbortSignal.timeout(1000) });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

/** Runs the built CLI (`dialgate …`); throws with its output unless it exits 0. */
async function runCli(repo: string, args: readonly string[]): Promise<void> {
  const child = spawn(process.execPath, [join(repo, "dist", "src", "cli", "main.js"), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (d: Buffer) => {
    output = (output + d.toString("utf8")).slice(-4000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const code = await waitExit(child, 30_000);
  if (code !== 0) throw new Error(`dialgate ${args.join(" ")} exited ${code}: ${output.trim()}`);
}
