// Free loopback ports for tests. A port the OS hands out for bind(0) and that is then closed can
// be handed out again at once — to another test file's socket, or to SIPp's, redis-server's or
// drachtio's own ephemeral sockets — before the test binds it (seen as EADDRINUSE under load).
// So ports come from below the kernel's ephemeral range (Linux: 32768-60999), where bind(0)
// never lands, and each vitest worker draws from its own slice, so parallel files never pick
// the same number. Each candidate is still checked free for both TCP and UDP.
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

const RANGE_START = 15_000;
const SLICE = 2_000; // ports per vitest worker: 8 slices fit below 32768
const SLICES = 8;
const workerId = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? "1");
const sliceStart = RANGE_START + ((Math.max(1, workerId) - 1) % SLICES) * SLICE;
// Start at a random place in the slice so a rerun does not meet its predecessor's TIME_WAITs.
let next = Math.floor(Math.random() * SLICE);

/** A port free for both UDP and TCP on `host` (SIP listens on both with one number). */
export async function freeSipPort(host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < SLICE; attempt++) {
    const port = sliceStart + (next++ % SLICE);
    if ((await tcpPortFree(host, port)) && (await udpPortFree(host, port))) return port;
  }
  throw new Error(`no port free for both UDP and TCP in ${sliceStart}-${sliceStart + SLICE - 1}`);
}

/**
 * A UDP port for SIPp's `-mp`: SIPp also binds the port two above it (video RTP echo) without
 * being told, so that one must be free as well, and is never handed out afterwards.
 */
export async function freeMediaPort(host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < SLICE; attempt++) {
    const port = sliceStart + (next % SLICE);
    next += 4;
    if (port + 2 >= sliceStart + SLICE) continue;
    if ((await udpPortFree(host, port)) && (await udpPortFree(host, port + 2))) return port;
  }
  throw new Error(`no media port pair free in ${sliceStart}-${sliceStart + SLICE - 1}`);
}

/** A free TCP port (IPv6 hosts such as ::1 work too). */
export function freeTcpPort(host = "127.0.0.1"): Promise<number> {
  return freeSipPort(host);
}

/** A free UDP port. */
export function freeUdpPort(host = "127.0.0.1"): Promise<number> {
  return freeSipPort(host);
}

export function tcpPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
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
