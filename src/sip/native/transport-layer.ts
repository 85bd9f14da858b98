import { TcpTransport } from "./tcp-transport.js";
import type { Destination, ListenAddress, MessageSource, TransportHandlers } from "./transport-types.js";
import { UdpTransport } from "./udp-transport.js";

/** UDP and TCP behind one `send` (RFC 3261 §18). */
export class TransportLayer {
  readonly udp: UdpTransport;
  readonly tcp: TcpTransport;
  private bound: ListenAddress[] = [];

  constructor(handlers: TransportHandlers, maxMessageBytes: number) {
    this.udp = new UdpTransport(handlers);
    this.tcp = new TcpTransport(handlers, maxMessageBytes);
  }

  /** Binds every address; returns them with the ports actually bound. */
  async listen(addresses: readonly ListenAddress[]): Promise<readonly ListenAddress[]> {
    const out: ListenAddress[] = [];
    for (const a of addresses) {
      out.push(a.transport === "udp" ? await this.udp.listen(a) : await this.tcp.listen(a));
    }
    this.bound = out;
    return out;
  }

  get listenAddresses(): readonly ListenAddress[] {
    return this.bound;
  }

  /** The local address a message to `dest` leaves from (for Via and Record-Route). */
  localFor(dest: Destination): ListenAddress | null {
    return dest.transport === "udp" ? this.udp.localFor(dest.host) : this.tcp.localFor(dest.host);
  }

  send(
    dest: Destination,
    data: Uint8Array,
    onError: (err: Error) => void,
    connectionId?: number | null,
  ): void {
    if (dest.transport === "udp") this.udp.send(dest, data, onError);
    else this.tcp.send(dest, data, onError, connectionId);
  }

  /** Sends a reply to where `source` came from: the same TCP connection, or its UDP address. */
  reply(source: MessageSource, dest: Destination, data: Uint8Array, onError: (err: Error) => void): void {
    if (source.transport === "tcp") this.tcp.send(dest, data, onError, source.connectionId);
    else this.udp.send(dest, data, onError, source.local);
  }

  async close(): Promise<void> {
    await Promise.all([this.udp.close(), this.tcp.close()]);
  }
}
