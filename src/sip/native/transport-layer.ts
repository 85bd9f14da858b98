import { TcpTransport } from "./tcp-transport.js";
import type { TlsFlavour } from "./tls-transport.js";
import type {
  Destination,
  ListenAddress,
  ListenOptions,
  MessageSource,
  StreamTransport,
  TransportHandlers,
} from "./transport-types.js";
import { UdpTransport } from "./udp-transport.js";

export interface StreamLimits {
  /** A TCP/TLS connection with no traffic for this long is closed (sip.limits.idleConnectionSeconds). */
  readonly idleTimeoutMs?: number;
  readonly maxHeaders?: number;
}

/** UDP, TCP and TLS behind one `send` (RFC 3261 §18). */
export class TransportLayer {
  readonly udp: UdpTransport;
  readonly tcp: TcpTransport;
  /** Present once TLS is enabled (a `tls` listener, or TLS credentials for outgoing connections). */
  tls: TcpTransport | null = null;
  private bound: ListenAddress[] = [];

  constructor(
    private readonly handlers: TransportHandlers,
    private readonly maxMessageBytes: number,
    private readonly limits: StreamLimits = {},
  ) {
    this.udp = new UdpTransport(handlers);
    this.tcp = new TcpTransport(
      handlers,
      maxMessageBytes,
      limits.idleTimeoutMs,
      undefined,
      limits.maxHeaders,
    );
  }

  enableTls(flavour: TlsFlavour): void {
    this.tls ??= new TcpTransport(
      this.handlers,
      this.maxMessageBytes,
      this.limits.idleTimeoutMs,
      flavour,
      this.limits.maxHeaders,
    );
  }

  /** Binds every address; returns them with the ports actually bound. */
  async listen(
    addresses: readonly ListenAddress[],
    options: (a: ListenAddress) => ListenOptions = () => ({}),
  ): Promise<readonly ListenAddress[]> {
    const out: ListenAddress[] = [];
    for (const a of addresses) {
      if (a.transport === "udp") out.push(await this.udp.listen(a, options(a)));
      else {
        const stream = this.stream(a.transport);
        if (stream === null) throw new Error("TLS is not enabled (sip.tls)");
        out.push(await stream.listen(a, options(a)));
      }
    }
    // A worker binds its own addresses, then the shared ones: the list grows with each call.
    this.bound = [...this.bound, ...out];
    return out;
  }

  get listenAddresses(): readonly ListenAddress[] {
    return this.bound;
  }

  /** Open TCP and TLS connections. */
  get connectionCount(): number {
    return this.tcp.connectionCount + (this.tls?.connectionCount ?? 0);
  }

  /** The local address a message to `dest` leaves from (for Via and Record-Route). */
  localFor(dest: Destination): ListenAddress | null {
    if (dest.transport === "udp") return this.udp.localFor(dest.host);
    return this.stream(dest.transport)?.localFor(dest.host) ?? null;
  }

  send(
    dest: Destination,
    data: Uint8Array,
    onError: (err: Error) => void,
    connectionId?: number | null,
  ): void {
    if (dest.transport === "udp") {
      this.udp.send(dest, data, onError);
      return;
    }
    const stream = this.stream(dest.transport);
    if (stream === null) onError(new Error("TLS is not enabled (sip.tls)"));
    else stream.send(dest, data, onError, connectionId);
  }

  /** Sends a reply to where `source` came from: the same TCP/TLS connection, or its UDP address. */
  reply(source: MessageSource, dest: Destination, data: Uint8Array, onError: (err: Error) => void): void {
    if (source.transport === "udp") this.udp.send(dest, data, onError, source.local);
    else this.stream(source.transport)?.send(dest, data, onError, source.connectionId);
  }

  /** RFC 5923: reuse an accepted TLS connection for requests to the peer's sent-by. */
  aliasTls(connectionId: number, host: string, port: number): void {
    this.tls?.alias(connectionId, host, port);
  }

  async close(): Promise<void> {
    this.bound = [];
    await Promise.all([this.udp.close(), this.tcp.close(), this.tls?.close()]);
  }

  private stream(t: StreamTransport): TcpTransport | null {
    return t === "tcp" ? this.tcp : this.tls;
  }
}
