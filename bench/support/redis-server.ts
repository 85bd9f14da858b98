// A real redis-server for the benchmarks, started on a free loopback port with no persistence
// in a private directory, and stopped (SIGTERM) at the end -- the same settings the store tests
// use (test/support/redis-server.ts).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeTcpPort } from "./ports.js";
import { sleep, WatchedProcess } from "./processes.js";

const HOST = "127.0.0.1";

export class BenchRedisServer {
  private constructor(
    readonly process: WatchedProcess,
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<BenchRedisServer> {
    const port = await freeTcpPort();
    const dir = mkdtempSync(join(tmpdir(), "dialgate-bench-redis-"));
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        HOST,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
        "--protected-mode",
        "no",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    const server = new BenchRedisServer(new WatchedProcess("redis-server", child), port, dir);
    const deadline = Date.now() + 20_000;
    while (!(await ping(port))) {
      if (server.process.exited || Date.now() > deadline) {
        const stderr = server.process.stderr;
        await server.stop();
        throw new Error(`redis-server on port ${port} did not start: ${stderr || "no answer to PING"}`);
      }
      await sleep(50);
    }
    return server;
  }

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  async stop(): Promise<void> {
    await this.process.stop(5000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 500);
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (d) => done(d.toString("latin1").startsWith("+PONG")));
  });
}
