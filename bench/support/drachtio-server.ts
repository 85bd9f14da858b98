// A real drachtio-server for `bench:load`'s drachtio rig: binary from DRACHTIO_BIN (relative to
// the repository or absolute), else `drachtio` on PATH, else ../shared; a generated loopback
// configuration: admin port and secret for drachtio-srf, one SIP contact for UDP and TCP, CDR
// events on (the edge's call records need them). Logging is at `warning`, as the other rigs log
// only problems under load. The binary lookup and the configuration are the tests' too
// (test/support/drachtio-server.ts imports them).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { delimiter, join, resolve } from "node:path";
import { freeSipPort, freeTcpPort } from "./ports.js";
import { sleep, WatchedProcess } from "./processes.js";

const HOST = "127.0.0.1";

/**
 * Where the drachtio binary is (shared by the bench and the tests): DRACHTIO_BIN (relative to the
 * repo or absolute), PATH, ../shared, then the copy scripts/obtain-drachtio.sh (run by `npm test`)
 * leaves in .cache/drachtio.
 */
export function findDrachtioBinary(repo: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.DRACHTIO_BIN;
  if (fromEnv !== undefined && fromEnv !== "") {
    const p = resolve(repo, fromEnv);
    if (!existsSync(p)) throw new Error(`DRACHTIO_BIN=${fromEnv} does not exist`);
    return p;
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir !== "" && existsSync(join(dir, "drachtio"))) return join(dir, "drachtio");
  }
  // The shared copy beside the checkout (../shared), or beside the directory of worktrees.
  for (const up of ["..", "../.."]) {
    const shared = resolve(repo, up, "shared/drachtio/drachtio");
    if (existsSync(shared)) return shared;
  }
  const obtained = resolve(repo, ".cache/drachtio/drachtio");
  if (existsSync(obtained)) return obtained;
  throw new Error(
    "no drachtio-server binary: set DRACHTIO_BIN or put `drachtio` on PATH, or run " +
      "scripts/obtain-drachtio.sh (it copies /usr/local/bin/drachtio out of the drachtio/drachtio-server " +
      "image where a container engine runs, else builds v0.9.4 from source; " +
      "see README, 'The drachtio edge')",
  );
}

export class BenchDrachtioServer {
  private constructor(
    readonly process: WatchedProcess,
    readonly sipPort: number,
    readonly adminPort: number,
    readonly secret: string,
  ) {}

  /**
   * Starts drachtio-server with its configuration and log in `dir`; resolves once the admin port
   * and the SIP port (TCP) accept. drachtio-server opens its admin port before its SIP transports,
   * and an app connecting in between is told of no SIP address at all.
   */
  static async start(bin: string, dir: string): Promise<BenchDrachtioServer> {
    const adminPort = await freeTcpPort();
    const sipPort = await freeSipPort();
    const secret = randomBytes(8).toString("hex");
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, "drachtio.conf.xml");
    writeFileSync(
      conf,
      drachtioConfig({ host: HOST, adminPort, sipPort, secret, logFile: join(dir, "drachtio.log") }),
    );
    const child = spawn(bin, ["-f", conf], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    const logFile = join(dir, "drachtio.log");
    const watched = new WatchedProcess("drachtio-server", child, logFile);
    const server = new BenchDrachtioServer(watched, sipPort, adminPort, secret);
    const deadline = Date.now() + 20_000;
    while (!(await tcpOpen(adminPort)) || !(await tcpOpen(sipPort))) {
      if (watched.exited || Date.now() > deadline) {
        const stderr = watched.stderr;
        await server.stop();
        throw new Error(`drachtio-server did not start (log ${logFile}): ${stderr}`);
      }
      await sleep(50);
    }
    return server;
  }

  /** SIGTERM (drachtio-server takes a few seconds), SIGKILL after 10 s. */
  stop(): Promise<void> {
    return this.process.stop(10_000);
  }
}

/** The generated configuration (bench and tests): loopback only, CDR events on (the edge's call records need them). */
export function drachtioConfig(o: {
  host: string;
  adminPort: number;
  sipPort: number;
  secret: string;
  logFile: string;
  tls?: { port: number; keyFile: string; certFile: string; dhFile: string } | null;
  /** drachtio-server's log level: `info` in tests, `warning` under load (default). */
  logLevel?: "info" | "warning";
}): string {
  const verbose = o.logLevel === "info";
  const tlsPort = o.tls ? ` tls-port="${o.tls.port}"` : "";
  const tlsFiles = o.tls
    ? `
    <tls>
      <key-file>${o.tls.keyFile}</key-file>
      <cert-file>${o.tls.certFile}</cert-file>
      <chain-file>${o.tls.certFile}</chain-file>
      <dh-param>${o.tls.dhFile}</dh-param>
    </tls>`
    : "";
  return `<drachtio>
  <admin port="${o.adminPort}"${tlsPort} secret="${o.secret}">${o.host}</admin>
  <sip>
    <contacts>
      <contact>sip:${o.host}:${o.sipPort};transport=udp,tcp</contact>
    </contacts>${tlsFiles}
  </sip>
  <cdrs>true</cdrs>
  <logging>
    <file>
      <name>${o.logFile}</name>
      <archive>${join(o.logFile, "..", "archive")}</archive>
      <size>50</size>
      <maxFiles>2</maxFiles>
      <auto-flush>true</auto-flush>
    </file>
    <sofia-loglevel>${verbose ? 3 : 1}</sofia-loglevel>
    <loglevel>${verbose ? "info" : "warning"}</loglevel>
  </logging>
</drachtio>
`;
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = connect({ host: HOST, port });
    s.once("connect", () => {
      s.destroy();
      done(true);
    });
    s.once("error", () => done(false));
  });
}
