// Real Redis for tests: a standalone `redis-server`, or a three-master Redis Cluster created with
// `redis-cli --cluster create`, on free loopback ports, with no persistence and a private
// directory. `stop()` kills the server (an outage); `start()` brings it back on the same port
// (recovery); `cleanup()` removes everything. Nothing is mocked: the code under test talks RESP
// to the same server operators run.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeTcpPort, waitFor } from "./free-port.js";
import { createTestPki } from "./test-pki.js";

const HOST = "127.0.0.1";

/** Sends one inline command and resolves with the raw reply text (null when unreachable). */
export function redisCommand(port: number, command: string, timeoutMs = 2000): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let data = "";
    const done = (value: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(data === "" ? null : data), timeoutMs);
    socket.on("error", () => done(null));
    socket.on("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk) => {
      data += chunk.toString("utf8");
      // Simple and bulk replies end with CRLF; a bulk reply has a header line then the body.
      if (data.startsWith("$")) {
        const nl = data.indexOf("\r\n");
        const len = Number(data.slice(1, nl));
        if (len < 0 || data.length >= nl + 2 + len + 2) done(data);
      } else if (data.endsWith("\r\n")) done(data);
    });
  });
}

export class RedisServerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly extraArgs: readonly string[],
  ) {}

  /** Starts a standalone server on a free port (or `port`). */
  /**
   * `persistent`: an fsync'd append-only file, so data survives `stop()` + `start()` (an outage
   * of a production server rather than the loss of its data).
   */
  static async start(
    options: { port?: number; extraArgs?: readonly string[]; persistent?: boolean } = {},
  ): Promise<RedisServerProcess> {
    const port = options.port ?? (await freeTcpPort(HOST));
    const dir = mkdtempSync(join(tmpdir(), `dialgate-redis-${port}-`));
    const persistence = options.persistent ? ["--appendonly", "yes", "--appendfsync", "always"] : [];
    const server = new RedisServerProcess(port, dir, [...persistence, ...(options.extraArgs ?? [])]);
    await server.start();
    return server;
  }

  /**
   * A server that also speaks TLS on `tlsPort`, with a certificate for 127.0.0.1 from a
   * throwaway CA (`caFile`, the trust anchor a client needs). The plain port stays open for the
   * harness's own PING.
   */
  static async startWithTls(): Promise<{ redis: RedisServerProcess; tlsPort: number; caFile: string }> {
    const pki = createTestPki();
    const cert = pki.issue("redis", ["localhost"], { loopbackIp: true });
    const tlsPort = await freeTcpPort();
    const redis = await RedisServerProcess.start({
      extraArgs: [
        ...["--tls-port", String(tlsPort), "--tls-cert-file", cert.certFile],
        ...["--tls-key-file", cert.keyFile, "--tls-ca-cert-file", pki.caFile, "--tls-auth-clients", "no"],
      ],
    });
    return { redis, tlsPort, caFile: pki.caFile };
  }

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** (Re)starts the server on its port; resolves once it answers PING. */
  async start(): Promise<void> {
    if (this.child !== null) return;
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        HOST,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.dir,
        "--protected-mode",
        "no",
        ...this.extraArgs,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    let gone = false;
    void this.exited.then(() => {
      gone = true;
      if (this.child === child) this.child = null;
    });
    await waitFor(
      async () => {
        if (gone) throw new Error(`redis-server on port ${this.port} exited: ${stderr.trim()}`);
        return (await redisCommand(this.port, "PING", 500))?.startsWith("+PONG") ?? false;
      },
      20_000,
      `redis-server on port ${this.port}`,
    );
  }

  /** Kills the server (SIGKILL: an outage, not a clean shutdown). Data is lost (no persistence). */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    child.kill("SIGKILL");
    await this.exited;
    this.child = null;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Freezes the server (SIGSTOP): its connections stay open and the kernel still accepts
   * bytes, but nothing is answered -- a hung server or a network path that silently drops
   * replies, which no "connection closed" event reveals. `resume()` thaws it.
   */
  pause(): void {
    this.child?.kill("SIGSTOP");
  }

  resume(): void {
    this.child?.kill("SIGCONT");
  }
}

/** A Redis Sentinel (`redis-server <conf> --sentinel`) watching one master, on a free port. */
export class RedisSentinelProcess {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly exited: Promise<void>,
  ) {}

  static async start(masterName: string, master: RedisServerProcess): Promise<RedisSentinelProcess> {
    const port = await freeTcpPort(HOST);
    const dir = mkdtempSync(join(tmpdir(), `dialgate-sentinel-${port}-`));
    // Sentinel rewrites its configuration file, so it lives in the private directory.
    const conf = join(dir, "sentinel.conf");
    writeFileSync(
      conf,
      [
        `port ${port}`,
        `bind ${HOST}`,
        "protected-mode no",
        `dir ${dir}`,
        `sentinel monitor ${masterName} ${HOST} ${master.port} 1`,
        "",
      ].join("\n"),
    );
    const child = spawn("redis-server", [conf, "--sentinel"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    let gone = false;
    const exited = new Promise<void>((resolve) =>
      child.once("exit", () => {
        gone = true;
        resolve();
      }),
    );
    const sentinel = new RedisSentinelProcess(port, child, dir, exited);
    await waitFor(
      async () => {
        if (gone) throw new Error(`redis sentinel on port ${port} exited: ${stderr.trim()}`);
        const reply = await redisCommand(port, `SENTINEL get-master-addr-by-name ${masterName}`, 500);
        return reply?.includes(String(master.port)) ?? false;
      },
      20_000,
      `redis sentinel on port ${port}`,
    );
    return sentinel;
  }

  async cleanup(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A three-master Redis Cluster on loopback (no replicas). */
export class RedisClusterProcess {
  private constructor(readonly nodes: readonly RedisServerProcess[]) {}

  static async start(masters = 3): Promise<RedisClusterProcess> {
    const nodes: RedisServerProcess[] = [];
    try {
      for (let i = 0; i < masters; i++) {
        // The cluster bus listens on port + 10000 unless told otherwise, and that number lies in
        // another vitest worker's port slice (free-port.ts), where that worker may hand it out
        // at the same moment (seen as a SIPp "Address already in use"). So the bus gets a port
        // of its own from this worker's slice (`cluster-port`, Redis 7).
        const port = await freeTcpPort(HOST);
        const busPort = await freeTcpPort(HOST);
        nodes.push(
          await RedisServerProcess.start({
            port,
            extraArgs: [
              "--cluster-enabled",
              "yes",
              "--cluster-config-file",
              `nodes-${port}.conf`,
              "--cluster-node-timeout",
              "5000",
              "--cluster-port",
              String(busPort),
            ],
          }),
        );
      }
      await run("redis-cli", [
        "--cluster",
        "create",
        ...nodes.map((n) => `${HOST}:${n.port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ]);
      await waitFor(
        async () => {
          for (const n of nodes) {
            const info = await redisCommand(n.port, "CLUSTER INFO", 1000);
            if (!info?.includes("cluster_state:ok")) return false;
          }
          return true;
        },
        30_000,
        "the cluster to reach cluster_state:ok",
      );
    } catch (err) {
      for (const n of nodes) await n.cleanup();
      throw err;
    }
    return new RedisClusterProcess(nodes);
  }

  /** Seed URLs for a cluster client. */
  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  async cleanup(): Promise<void> {
    for (const n of this.nodes) await n.cleanup();
  }
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout?.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr?.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${output}`)),
    );
  });
}
