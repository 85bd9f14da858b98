// A gateway that sends nothing at all, not even 100 Trying: a UDP socket the test binds that only
// keeps what it receives. It stands for a blackholed or crashed gateway, the case the failover
// timer exists for (routing.md): a gateway that answers 100 and then stays quiet can be
// CANCELled, one that sends nothing cannot (RFC 3261 §9.1), so an edge that waits for its
// CANCEL's answer waits for Timer B.
import { createSocket, type Socket } from "node:dgram";

export class SilentUdpGateway {
  /** Every datagram received, as text (INVITE retransmissions, a CANCEL, OPTIONS...). */
  readonly received: string[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on("message", (msg) => this.received.push(msg.toString("utf8")));
  }

  static bind(port: number, host = "127.0.0.1"): Promise<SilentUdpGateway> {
    const socket = createSocket("udp4");
    return new Promise((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(port, host, () => {
        socket.off("error", reject);
        resolve(new SilentUdpGateway(socket, port));
      });
    });
  }

  /** The Request-URIs of the INVITEs received (retransmissions included). */
  get invites(): string[] {
    return this.received
      .map((m) => /^INVITE (\S+) SIP\/2\.0\r?\n/.exec(m)?.[1])
      .filter((uri): uri is string => uri !== undefined);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
