// A real drachtio-server for tests: generated configuration (loopback admin and SIP ports the
// OS picked, CDR events on), started from DRACHTIO_BIN or PATH, stopped with SIGTERM.
//
// There is no fallback double: a machine without the binary fails here with a message that
// says how to get one (../shared/drachtio/README.md, or build drachtio-server v0.9.4 from
// github.com/drachtio/drachtio-server, or copy /usr/local/bin/drachtio out of the official
// drachtio/drachtio-server image), and the test fails rather than skipping.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { drachtioConfig, findDrachtioBinary as findBinaryIn } from "../../bench/support/drachtio-server.js";
import { freeSipPort, freeTcpPort, waitFor } from "./free-port.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Where the drachtio binary is: DRACHTIO_BIN (relative to the repo or absolute), PATH, then ../shared. */
export function findDrachtioBinary(env: NodeJS.ProcessEnv = process.env): string {
  return findBinaryIn(repoRoot, env);
}

export interface DrachtioServerOptions {
  readonly sipHost?: string;
  /**
   * Also listen for apps over TLS (`<admin tls-port>`): a self-signed certificate for
   * 127.0.0.1 is made with openssl, and the RFC 7919 ffdhe2048 group serves as the DH
   * parameters drachtio-server requires for TLS admin connections (generating fresh ones takes
   * tens of seconds).
   */
  readonly tls?: boolean;
}

export interface DrachtioTlsFiles {
  readonly port: number;
  /** The certificate, which is also the CA to trust. */
  readonly caFile: string;
}

export class DrachtioServer {
  private stderr = "";
  /** The TLS admin port and the CA to trust, when started with `tls`. */
  tls: DrachtioTlsFiles | null = null;
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly adminPort: number,
    readonly sipPort: number,
    readonly secret: string,
    readonly dir: string,
    readonly host: string,
  ) {
    child.stderr?.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString("utf8")).slice(-8000);
    });
    child.stdout?.on("data", () => {});
    this.exit = new Promise((r) =>
      child.on("exit", () => {
        this.exited = true;
        r();
      }),
    );
  }

  static async start(options: DrachtioServerOptions = {}): Promise<DrachtioServer> {
    const bin = findDrachtioBinary();
    const host = options.sipHost ?? "127.0.0.1";
    const dir = mkdtempSync(join(tmpdir(), "dialgate-drachtio-"));
    const adminPort = await freeTcpPort(host);
    const sipPort = await freeSipPort(host);
    const secret = randomBytes(8).toString("hex");
    const conf = join(dir, "drachtio.conf.xml");
    const tls = options.tls ? { port: await freeTcpPort(host), ...makeTlsFiles(dir) } : null;
    writeFileSync(
      conf,
      drachtioConfig({
        host,
        adminPort,
        sipPort,
        secret,
        logFile: join(dir, "drachtio.log"),
        tls,
        logLevel: "info",
      }),
    );
    const server = await DrachtioServer.spawn(bin, conf, { adminPort, sipPort, secret, dir, host });
    server.tls = tls === null ? null : { port: tls.port, caFile: tls.certFile };
    return server;
  }

  private static async spawn(
    bin: string,
    conf: string,
    o: { adminPort: number; sipPort: number; secret: string; dir: string; host: string },
  ): Promise<DrachtioServer> {
    const { adminPort, sipPort, secret, dir, host } = o;
    const child = spawn(bin, ["-f", conf], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    const server = new DrachtioServer(child, adminPort, sipPort, secret, dir, host);
    child.once("error", (err) => {
      server.stderr += `\nspawn failed: ${err.message}`;
    });
    try {
      await waitFor(
        async () => {
          if (server.exited) throw new Error(`drachtio exited at start:\n${server.diagnostics()}`);
          // The admin port opens before the SIP transports, and an app connecting in between
          // is told of no SIP address: wait for both.
          return (await tcpOpen(host, adminPort)) && (await tcpOpen(host, sipPort));
        },
        20_000,
        `drachtio admin port ${host}:${adminPort} and SIP port ${sipPort}`,
      );
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** The drachtio-srf connection settings (config `sip.drachtio`). */
  get connection(): { host: string; port: number; secret: string } {
    return { host: this.host, port: this.adminPort, secret: this.secret };
  }

  /** Its log file and stderr, for a failed test's message. */
  diagnostics(): string {
    const log = join(this.dir, "drachtio.log");
    const text = existsSync(log) ? readFileSync(log, "utf8").slice(-6000) : "(no log)";
    return `${text}\n--- stderr ---\n${this.stderr}`;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill("SIGCONT");
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await this.exit;
    clearTimeout(timer);
  }

  /** Stops it (SIGKILL) and starts a new process with the same configuration and ports. */
  async restart(): Promise<DrachtioServer> {
    await this.kill();
    const next = await DrachtioServer.spawn(findDrachtioBinary(), join(this.dir, "drachtio.conf.xml"), {
      adminPort: this.adminPort,
      sipPort: this.sipPort,
      secret: this.secret,
      dir: this.dir,
      host: this.host,
    });
    next.tls = this.tls;
    return next;
  }

  /** Freezes (SIGSTOP) / thaws (SIGCONT) the process: its sockets stay open and silent. */
  pause(): void {
    this.child.kill("SIGSTOP");
  }

  resume(): void {
    this.child.kill("SIGCONT");
  }

  /** Stops the process abruptly (connection-loss tests). */
  async kill(): Promise<void> {
    if (this.exited) return;
    this.child.kill("SIGKILL");
    await this.exit;
  }
}

function makeTlsFiles(dir: string): { keyFile: string; certFile: string; dhFile: string } {
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  const dhFile = join(dir, "dh.pem");
  const run = (args: string[]) => {
    const r = spawnSync("openssl", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr || r.error?.message}`);
  };
  run([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
  ]);
  run(["genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", dhFile]);
  return { keyFile, certFile, dhFile };
}

/** Whether `host:port` accepts a TCP connection. */
export function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const s = connect({ host, port });
    s.once("connect", () => {
      s.destroy();
      resolvePromise(true);
    });
    s.once("error", () => resolvePromise(false));
  });
}

/** `drachtio --version`, for diagnostics and the bench report. */
export function drachtioVersion(): string {
  const r = spawnSync(findDrachtioBinary(), ["--version"], { encoding: "utf8" });
  return (r.stdout || r.stderr).trim();
}
