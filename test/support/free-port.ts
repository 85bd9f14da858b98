// Free loopback ports for tests: the OS picks them, so parallel test files never collide on a
// fixed number.
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

/** A port free for both UDP and TCP on `host` (SIP listens on both with one number). */
export async function freeSipPort(host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freeTcpPort(host);
    if (await udpPortFree(host, port)) return port;
  }
  throw new Error("no port free for both UDP and TCP");
}

export function freeTcpPort(host = "127.0.0.1"): Promise<number> {
  // (IPv6 hosts such as ::1 work too.)
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function freeUdpPort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(":") ? "udp6" : "udp4");
    s.once("error", reject);
    s.bind(0, host, () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

export function udpPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket(host.includes(":") ? "udp6" : "udp4");
    s.once("error", () => resolve(false));
    s.bind(port, host, () => s.close(() => resolve(true)));
  });
}

/** Polls `condition` (no fixed sleep) until it holds or `timeoutMs` passes. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
