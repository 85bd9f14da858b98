import { createSocket, type Socket } from "node:dgram";
import { lookup } from "node:dns";
import { isIP, isIPv6 } from "node:net";
import { BatchedUdpSender, type UdpBatchMode, udpBatchMode, udpBatchModule } from "./batched-udp-send.js";
import type {
  Destination,
  ListenAddress,
  ListenOptions,
  MessageSource,
  TransportHandlers,
  UdpDispatch,
} from "./transport-types.js";

/**
 * The receive buffer asked for. Linux doubles it (bookkeeping) and caps the request at
 * net.core.rmem_max, 212,992 bytes on a stock system, so what a socket gets is read back.
 */
export const REQUESTED_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/** One UDP socket per listen address (RFC 3261 §18: connectionless, one datagram = one message). */
export class UdpTransport {
  private readonly sockets: { socket: Socket; local: ListenAddress; v6: boolean; shared: boolean }[] = [];
  private dispatch: UdpDispatch | null = null;
  private received = 0;
  private readonly batch: BatchedUdpSender | null;
  private readonly batchMode: UdpBatchMode;

  /**
   * `batchSends`: false sends every datagram through dgram at once; otherwise DIALGATE_UDP_BATCH
   * decides (batched-udp-send.ts: under load by default) where the native module is built.
   * `loadForBatching` replaces the event-loop utilisation that decides it (tests).
   */
  constructor(
    private readonly handlers: TransportHandlers,
    options: { readonly batchSends?: boolean; readonly loadForBatching?: () => number } = {},
  ) {
    const mode = options.batchSends === false ? "off" : udpBatchMode();
    const native = mode === "off" ? null : udpBatchModule();
    this.batchMode = native === null ? "off" : mode;
    const load = options.loadForBatching ?? (mode === "always" ? () => 1 : undefined);
    this.batch = native === null ? null : new BatchedUdpSender(native, load);
  }

  /**
   * How sends leave: the mode (`off`: one datagram per system call, the module is not built or
   * was turned off), whether batching is on now, and datagrams sent in batches so far.
   */
  get batchState(): { readonly mode: UdpBatchMode; readonly active: boolean; readonly datagrams: number } {
    return {
      mode: this.batchMode,
      active: this.batch?.active ?? false,
      datagrams: this.batch?.datagramsSent ?? 0,
    };
  }

  /** Worker mode: relays datagrams on shared sockets to the worker that owns them. */
  setDispatch(dispatch: UdpDispatch): void {
    this.dispatch = dispatch;
  }

  /** Binds a socket; resolves with the bound address (port 0 picks a free port). */
  async listen(address: ListenAddress, options: ListenOptions = {}): Promise<ListenAddress> {
    const socket = createSocket({
      type: isIPv6(address.host) ? "udp6" : "udp4",
      // Large kernel buffers absorb bursts under load instead of dropping datagrams.
      recvBufferSize: REQUESTED_RECEIVE_BUFFER_BYTES,
      sendBufferSize: 4 * 1024 * 1024,
      // Only IP literals reach the socket (`send` resolves names first), so the socket's own
      // lookup answers at once instead of going through dns.lookup and a tick per datagram.
      lookup: literalLookup,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(
        { port: address.port, address: address.host, exclusive: options.exclusive ?? false },
        () => {
          socket.off("error", reject);
          resolve();
        },
      );
    });
    const local: ListenAddress = { transport: "udp", host: address.host, port: socket.address().port };
    socket.on("error", (err) => this.handlers.onError(err, local));
    const shared = options.shared ?? false;
    const v6 = isIPv6(local.host);
    socket.on("message", (data, rinfo) => {
      this.received++;
      const source: MessageSource = {
        address: rinfo.address,
        port: rinfo.port,
        transport: "udp" as const,
        connectionId: null,
        local,
      };
      const dispatch = this.dispatch;
      if (dispatch?.isRelayed(data)) {
        // Admitted (flood limits) by the sibling that received it.
        const inner = dispatch.unwrap(data, (sixth, port) => this.sharedLocal(sixth, port));
        if (inner !== null) this.handlers.onMessage(inner);
        return;
      }
      // Size limits are the parser's business (it answers 413 with what it could read).
      if (this.handlers.admitMessage?.(source) === false) return;
      if (shared && dispatch?.relayIfForeign(data, source, (d, p, h) => socket.send(d, p, h))) return;
      this.handlers.onMessage({ data, source });
    });
    this.sockets.push({ socket, local, v6, shared });
    this.batch?.start();
    return local;
  }

  /** Datagrams read from every socket since start (admission control's drain rate). */
  get datagramsReceived(): number {
    return this.received;
  }

  /** The smallest receive buffer the kernel gave a socket, in its own accounting (null: none bound). */
  get receiveBufferBytes(): number | null {
    if (this.sockets.length === 0) return null;
    return Math.min(...this.sockets.map((s) => s.socket.getRecvBufferSize()));
  }

  /**
   * Whether Linux gave a socket less than was asked for (net.core.rmem_max caps the request). It
   * reports twice the size it set, half being bookkeeping, so a full grant reads as twice the
   * request. Other systems are not judged (false).
   */
  get receiveBufferCapped(): boolean {
    const granted = this.receiveBufferBytes;
    return process.platform === "linux" && granted !== null && granted < 2 * REQUESTED_RECEIVE_BUFFER_BYTES;
  }

  /** The shared socket a relayed datagram arrived on at the sibling (same port in every worker). */
  private sharedLocal(v6: boolean, port: number): ListenAddress | null {
    const family = this.sockets.filter((x) => x.shared && x.v6 === v6);
    return (family.find((x) => x.local.port === port) ?? family[0])?.local ?? null;
  }

  /** The listen address used to send to `host` (same address family). */
  localFor(host: string): ListenAddress | null {
    const v6 = looksLikeIPv6(host);
    const s = this.sockets.find((x) => x.v6 === v6) ?? this.sockets[0];
    return s?.local ?? null;
  }

  send(dest: Destination, data: Uint8Array, onError: (err: Error) => void, local?: ListenAddress): void {
    const v6 = looksLikeIPv6(dest.host);
    const entry =
      (local && this.sockets.find((x) => x.local.host === local.host && x.local.port === local.port)) ||
      this.sockets.find((x) => x.v6 === v6);
    if (entry === undefined) {
      onError(new Error(`no UDP socket for ${dest.host}`));
      return;
    }
    // No completion callback: with one, Node defers every datagram's success to a nextTick and
    // keeps a closure per send. A sendto error on an unconnected UDP socket is a local condition
    // (no buffer space, no route) that behaves like a lost datagram: the transaction's
    // retransmission and timeout timers (RFC 3261 §17) cover it.
    if (isIP(dest.host) !== 0) {
      this.sendTo(entry.socket, data, dest.port, dest.host);
      return;
    }
    lookup(dest.host, { family: entry.v6 ? 6 : 4 }, (err, address) => {
      if (err) onError(err);
      else this.sendTo(entry.socket, data, dest.port, address);
    });
  }

  /** `address` is an IP literal. A scoped IPv6 one (fe80::1%eth0) needs dgram's zone handling. */
  private sendTo(socket: Socket, data: Uint8Array, port: number, address: string): void {
    if (this.batch?.active && !address.includes("%") && this.batch.enqueue(socket, data, port, address))
      return;
    socket.send(data, port, address);
  }

  async close(): Promise<void> {
    // What this turn queued leaves before the descriptors go (and could be reused).
    this.batch?.stop();
    await Promise.all(
      this.sockets.map((s) => new Promise<void>((resolve) => s.socket.close(() => resolve()))),
    );
    this.sockets.length = 0;
  }
}

function literalLookup(
  address: string,
  family: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  callback(null, address, family === 6 ? 6 : 4);
}

/** Hot path: an IPv6 literal is the only kind of host with a colon (no regex per datagram). */
function looksLikeIPv6(host: string): boolean {
  return host.includes(":");
}
