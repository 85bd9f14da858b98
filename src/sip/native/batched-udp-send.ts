import type { Socket } from "node:dgram";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { eventLoopUtilisationSampler } from "./event-loop-utilisation.js";

/**
 * Batched UDP sends (README, "Batched UDP sends"): the datagrams a turn of the event loop
 * produces leave in one sendmmsg(2) per socket, at the turn's end, instead of one system call
 * each. A proxy under load reads many datagrams per turn and forwards each in the same turn, so
 * a turn ends with a dozen or more to send; on the virtual machines dialgate is measured on a
 * system call costs several microseconds, and a receiver (SIPp here, an SBC or trunk in
 * production) gets its datagrams of the turn together instead of a wake-up for each
 * (bench/README.md).
 *
 * The datagrams leave in the order they were queued, from the socket they were queued on
 * (RFC 3581: responses from the port the request came to). Sends happen at the end of the same
 * turn (a `setImmediate`, which runs after the turn's I/O), so no datagram waits for a later
 * turn. A datagram the kernel refuses (no route, a bad address) is lost, as one sent through
 * dgram without a callback would be: the transaction timers cover it (RFC 3261 §17). When the
 * socket's send buffer is full, the rest go through dgram, which queues them until it drains,
 * and later datagrams follow them through dgram until that queue is empty, keeping the order.
 *
 * Only under load: a lightly loaded proxy sends each datagram at once. Holding a datagram to
 * the turn's end costs latency (at 500 calls/s, +0.1 ms on the median INVITE→200 and up to
 * +1.3 ms on the p99 here) and saves little when a turn sends one or two. Batching starts when
 * the event loop is busy half the time and stops below 40%, sampled every 100 ms.
 */

/** The native module (native/udp_batch.c). */
interface UdpBatchModule {
  sendBatch(fd: number, items: unknown[], start: number, count: number): number;
}

const EAGAIN = 11; // Linux; EWOULDBLOCK is the same value

/**
 * A socket's queue leaves at once when it reaches this many datagrams, not at the turn's end: a
 * turn can read 32 datagrams per socket, and holding every answer until the last is handled
 * would keep the peers idle meanwhile. Batches of 16 already save nearly all the system calls
 * (C, loopback, this guest: 6.3–6.8 µs per datagram alone, 2.8 with 16, 2.6 with 32).
 */
export const SEND_AT_ONCE_AT = 16;

/** Event-loop utilisation from which sends are batched, and below which they stop being. */
export const BATCH_FROM_UTILISATION = 0.5;
export const BATCH_BELOW_UTILISATION = 0.4;

const MODULE_FILE = join("native", "build", "Release", "udp_batch.node");

/** The built module in the nearest folder above this file that has it (src/ in tests, dist/src/ when run). */
function findModule(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++) {
    const candidate = join(dir, MODULE_FILE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return null;
}

let loaded: UdpBatchModule | null | undefined;

/**
 * DIALGATE_UDP_BATCH: `off` sends every datagram at once through dgram; `always` batches
 * whatever the load (tests, and a host where system calls are dear even when idle); anything
 * else, `auto`, batches under load.
 */
export type UdpBatchMode = "off" | "auto" | "always";

export function udpBatchMode(env: NodeJS.ProcessEnv = process.env): UdpBatchMode {
  const v = env.DIALGATE_UDP_BATCH;
  return v === "off" || v === "always" ? v : "auto";
}

/**
 * The native module, or null where it is not built (not Linux, no C toolchain at install).
 * Loaded once per process; whether it is used is the mode's business (udpBatchMode).
 */
export function udpBatchModule(): UdpBatchModule | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  const file = process.platform === "linux" ? findModule() : null;
  if (file === null) return loaded;
  try {
    loaded = createRequire(import.meta.url)(file) as UdpBatchModule;
  } catch {
    // Not built: dgram sends one datagram per call, as before. The transport's owner logs which.
  }
  return loaded;
}

/**
 * The file descriptor behind a dgram socket. Node keeps its handle under an internal symbol
 * (the public `_handle` getter is deprecated and warns); -1 when it cannot be found, which makes
 * that socket send through dgram.
 */
export function socketDescriptor(socket: Socket): number {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === "state symbol");
  if (key === undefined) return -1;
  const state = (socket as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[key];
  const fd = state?.handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : -1;
}

/** One socket's datagrams of the current turn: (bytes, port, address) triples. */
interface Outbox {
  readonly socket: Socket;
  readonly fd: number;
  readonly items: unknown[];
}

export class BatchedUdpSender {
  private readonly outboxes = new Map<Socket, Outbox>();
  /** Each socket's descriptor, found once (it is fixed while the socket is open; -1: none). */
  private readonly descriptors = new WeakMap<Socket, number>();
  private scheduled = false;
  private readonly flushNow = (): void => this.flush();
  private batching = false;
  private timer: NodeJS.Timeout | null = null;
  private sent = 0;

  /** `utilisation`: the event loop's busy share since its previous call (tests script it). */
  constructor(
    private readonly native: UdpBatchModule,
    private readonly utilisation: () => number = eventLoopUtilisationSampler(),
    private readonly periodMs = 100,
  ) {}

  /** Whether sends are being batched now (the load is past BATCH_FROM_UTILISATION). */
  get active(): boolean {
    return this.batching;
  }

  /** Datagrams that left through sendmmsg since start (metrics). */
  get datagramsSent(): number {
    return this.sent;
  }

  /** Starts following the load (the transport's first socket is bound). */
  start(): void {
    if (this.timer !== null) return;
    this.adapt();
    this.timer = setInterval(() => this.adapt(), this.periodMs);
    this.timer.unref();
  }

  /** Stops following the load and sends what is queued. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.flush();
    this.batching = false;
  }

  /** One load sample (the interval calls it; exposed for tests). */
  adapt(): void {
    const u = this.utilisation();
    if (!this.batching && u >= BATCH_FROM_UTILISATION) this.batching = true;
    else if (this.batching && u < BATCH_BELOW_UTILISATION) {
      // What is queued leaves before sends go straight out again, keeping the order.
      this.flush();
      this.batching = false;
    }
  }

  /**
   * Queues a datagram for the end of this turn; false when it should go through dgram at once:
   * the load is light, or the socket cannot take part (no descriptor, or dgram still holds
   * queued datagrams that must leave first). `address` is an IP literal.
   */
  enqueue(socket: Socket, data: Uint8Array, port: number, address: string): boolean {
    if (!this.batching) return false;
    let box = this.outboxes.get(socket);
    if (box === undefined) {
      if (socket.getSendQueueCount() > 0) return false;
      let fd = this.descriptors.get(socket);
      if (fd === undefined) {
        fd = socketDescriptor(socket);
        this.descriptors.set(socket, fd);
      }
      if (fd < 0) return false;
      box = { socket, fd, items: [] };
      this.outboxes.set(socket, box);
    }
    box.items.push(data, port, address);
    if (box.items.length >= 3 * SEND_AT_ONCE_AT) {
      this.send(box);
      return true;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
    return true;
  }

  /** Sends everything queued; also called before the sockets close. */
  flush(): void {
    this.scheduled = false;
    for (const box of this.outboxes.values()) this.send(box);
    this.outboxes.clear();
  }

  /** Sends and empties the queue. A socket found full leaves the batch: dgram holds the rest. */
  private send(box: Outbox): void {
    if (this.sendAll(box)) box.items.length = 0;
    else this.outboxes.delete(box.socket);
  }

  /** False when the send buffer was full and dgram took the rest. */
  private sendAll(box: Outbox): boolean {
    const { items, socket } = box;
    const count = items.length / 3;
    let next = 0;
    while (next < count) {
      const r = this.native.sendBatch(box.fd, items, next, count - next);
      if (r > 0) {
        next += r;
        this.sent += r;
      } else if (r === -EAGAIN) {
        // The send buffer is full: dgram queues the rest and writes them when it drains.
        for (let i = next; i < count; i++) {
          socket.send(items[3 * i] as Uint8Array, items[3 * i + 1] as number, items[3 * i + 2] as string);
        }
        return false;
      } else {
        next += 1; // refused (no route, bad address): this one datagram is lost
      }
    }
    return true;
  }
}
