// stunnel4 as the TLS wrapper around SIPp, which Debian builds without TLS: a client service
// turns SIPp's TCP into TLS toward dialgate, a server service terminates dialgate's TLS in front
// of a SIPp UAS. Each instance runs in the foreground in its own directory; `stopAllStunnel()`
// in afterAll/afterEach never leaves one behind.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeTcpPort, waitFor } from "./free-port.js";

export interface StunnelService {
  readonly name: string;
  /** client: accept TCP, connect TLS. server: accept TLS, connect TCP. */
  readonly client: boolean;
  /** Where it connects to (127.0.0.1:port). */
  readonly connectPort: number;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Client: verify the server against this CA and name (SNI and checkHost). */
  readonly caFile?: string;
  readonly checkHost?: string;
}

export interface Stunnel {
  /** The accepting port of each service, by name. */
  readonly ports: Readonly<Record<string, number>>;
  log(): string;
  stop(): Promise<void>;
}

const running = new Set<Stunnel>();

export async function startStunnel(services: readonly StunnelService[]): Promise<Stunnel> {
  const dir = mkdtempSync(join(tmpdir(), "dialgate-stunnel-"));
  const ports: Record<string, number> = {};
  const lines = ["foreground = yes", "debug = 5", "syslog = no", `pid = `];
  for (const s of services) {
    ports[s.name] = await freeTcpPort();
    lines.push(`[${s.name}]`, `accept = 127.0.0.1:${ports[s.name]}`, `connect = 127.0.0.1:${s.connectPort}`);
    if (s.client) lines.push("client = yes");
    if (s.certFile) lines.push(`cert = ${s.certFile}`);
    if (s.keyFile) lines.push(`key = ${s.keyFile}`);
    if (s.caFile) lines.push(`CAfile = ${s.caFile}`, "verifyChain = yes");
    if (s.checkHost) lines.push(`checkHost = ${s.checkHost}`, `sni = ${s.checkHost}`);
  }
  const file = join(dir, "stunnel.conf");
  writeFileSync(file, `${lines.join("\n")}\n`);
  const child: ChildProcess = spawn("stunnel4", [file], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString("utf8")));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitFor(
    () => out.includes("Configuration successful") || child.exitCode !== null,
    15_000,
    "stunnel to start",
  );
  if (child.exitCode !== null) throw new Error(`stunnel exited: ${out}`);
  const handle: Stunnel = {
    ports,
    log: () => out,
    stop: async () => {
      running.delete(handle);
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
  running.add(handle);
  return handle;
}

export async function stopAllStunnel(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}
