// Worker dispatch on the shared UDP port. Every worker process reads the configured SIP port
// (one socket, shared through the cluster primary: the kernel hands each datagram to whichever
// worker reads first) and also binds a port of its own, which it puts in its Via and
// Record-Route. So responses and in-dialog requests (ACK, BYE, re-INVITE) go straight to the
// worker that holds their state; what still arrives on the shared port is a new request, its
// retransmissions, its CANCEL and the ACK of a non-2xx final. Those are owned by the worker a
// hash of the Call-ID names (call-id-hash.ts): a datagram read by another worker is relayed to
// the owner's own port inside a small envelope carrying the original source, and the owner
// answers from the shared socket (it holds it too), so responses leave from the port the
// request arrived on (RFC 3581 §4). About (n-1)/n of the new requests are relayed once: one
// extra datagram per call, against forwarding every message through a dispatcher process.
//
// Envelope: NUL "DGR1 " token " " address " " port " " shared-port LF, then the original
// bytes. A SIP message never starts with NUL; the token is a per-cluster secret, so no outside
// sender can forge a source address through a worker's own port.
import { isIPv6 } from "node:net";
import type {
  InboundMessage,
  ListenAddress,
  MessageSource,
  UdpDispatch,
} from "../sip/native/transport-types.js";
import { ownerOf, rawCallId } from "./call-id-hash.js";

/** A worker's own UDP ports by address family (null: it has no socket of that family). */
export interface OwnUdpPorts {
  readonly v4: number | null;
  readonly v6: number | null;
}

export interface WorkerPorts {
  /** This worker's index in [0, count). */
  readonly index: number;
  /** Each worker's own UDP ports, by index (null while a restarted worker has not bound yet). */
  readonly udp: readonly (OwnUdpPorts | null)[];
  /** Where the workers' own sockets are reachable from each other (loopback for wildcards). */
  readonly relayHost: { readonly v4: string; readonly v6: string };
  /** The cluster's relay secret. */
  readonly token: string;
}

const PREFIX = "\0DGR1 ";

export class SharedPortDispatch implements UdpDispatch {
  private readonly prefix: Buffer;
  private ports: WorkerPorts;
  /** Datagrams relayed to a sibling, and received from one (tests, metrics). */
  relayedOut = 0;
  relayedIn = 0;

  constructor(ports: WorkerPorts) {
    this.ports = ports;
    this.prefix = Buffer.from(`${PREFIX}${ports.token} `, "latin1");
  }

  /** A sibling was restarted (its own port may have changed): the primary sends the new table. */
  updatePorts(udp: readonly (OwnUdpPorts | null)[]): void {
    this.ports = { ...this.ports, udp };
  }

  isRelayed(data: Buffer): boolean {
    return data.length > 0 && data[0] === 0;
  }

  unwrap(
    data: Buffer,
    sharedLocal: (v6: boolean, port: number) => ListenAddress | null,
  ): InboundMessage | null {
    if (
      data.length <= this.prefix.length ||
      data.compare(this.prefix, 0, this.prefix.length, 0, this.prefix.length) !== 0
    )
      return null;
    const nl = data.indexOf(10, this.prefix.length);
    if (nl < 0 || nl > this.prefix.length + 72) return null;
    const [address = "", portText = "", sharedText = ""] = data
      .toString("latin1", this.prefix.length, nl)
      .split(" ");
    const port = Number(portText);
    const local = sharedLocal(isIPv6(address), Number(sharedText));
    if (address === "" || !Number.isInteger(port) || port <= 0 || port > 65535 || local === null) return null;
    this.relayedIn++;
    const source: MessageSource = { address, port, transport: "udp", connectionId: null, local };
    return { data: data.subarray(nl + 1), source };
  }

  relayIfForeign(
    data: Buffer,
    source: MessageSource,
    send: (data: Buffer, port: number, host: string) => void,
  ): boolean {
    const { index, udp, relayHost } = this.ports;
    if (udp.length < 2) return false;
    const callId = rawCallId(data);
    if (callId === null) return false;
    const owner = ownerOf(callId, udp.length);
    if (owner === index) return false;
    const v6 = isIPv6(source.local.host);
    const target = udp[owner]?.[v6 ? "v6" : "v4"] ?? null;
    // The owner is being restarted: keep the datagram here rather than lose it. A new request is
    // then served by this worker (its state lives here); a retransmission of one the dead worker
    // held is answered as a new request would be, which is what a restart can promise.
    if (target === null) return false;
    const head = Buffer.from(`${source.address} ${source.port} ${source.local.port}\n`, "latin1");
    send(Buffer.concat([this.prefix, head, data]), target, v6 ? relayHost.v6 : relayHost.v4);
    this.relayedOut++;
    return true;
  }
}
