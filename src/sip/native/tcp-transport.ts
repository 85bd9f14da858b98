import { connect, createServer, isIPv6, type Server, type Socket } from "node:net";
import { SipStreamFramer } from "../index.js";
import type {
  Destination,
  ListenAddress,
  ListenOptions,
  MessageSource,
  StreamTransport,
  TransportHandlers,
} from "./transport-types.js";

/**
 * What differs between plain TCP and TLS (tls-transport.ts): how servers and client sockets are
 * made, and which event says a socket is ready to carry SIP (after the TLS handshake).
 */
export interface StreamFlavour {
  readonly transport: StreamTransport;
  createServer(): Server;
  /**
   * The event that hands over a socket ready for SIP. The server's raw "connection" comes first
   * in either case: admission (bans, per-source limits) is decided there, before any handshake.
   */
  readonly acceptEvent: "connection" | "secureConnection";
  connect(dest: Destination): Socket;
  readonly connectEvent: "connect" | "secureConnect";
  /** Names a verified peer certificate carries (TLS, both directions). */
  peerNames?(socket: Socket): readonly string[] | undefined;
  /** Whether an accepted, ready socket may carry SIP (mutual TLS per the current settings). */
  acceptsPeer?(socket: Socket): boolean;
}

export const plainTcp: StreamFlavour = {
  transport: "tcp",
  createServer: () => createServer({ noDelay: true }),
  acceptEvent: "connection",
  connect: (dest) => connect({ host: dest.host, port: dest.port, noDelay: true }),
  connectEvent: "connect",
};

interface Connection {
  readonly id: number;
  readonly socket: Socket;
  readonly remoteKey: string;
  readonly local: ListenAddress;
  connected: boolean;
  /** Writes waiting for the connection to be established, with their error callbacks. */
  readonly queue: { data: Uint8Array; onError: (err: Error) => void }[];
  /** RFC 5923 aliases: other host|port keys requests to that peer reuse this connection under. */
  readonly aliases: string[];
}

const remoteKey = (host: string, port: number) => `${host.toLowerCase()}|${port}`;

/**
 * TCP per RFC 3261 §18: connections are reused in both directions (a response goes back on the
 * connection its request came on, §18.2.2; a request to a peer we already have a connection with
 * reuses it), messages are framed by Content-Length, idle connections are closed.
 */
export class TcpTransport {
  private readonly servers: { server: Server; local: ListenAddress }[] = [];
  private readonly connections = new Map<number, Connection>();
  private readonly byRemote = new Map<string, number>();
  /** Accepted connections open per source address (sip.limits.maxConnectionsPerSource). */
  private readonly perAddress = new Map<string, number>();
  private nextId = 1;

  constructor(
    private readonly handlers: TransportHandlers,
    private readonly maxMessageBytes: number,
    private readonly idleTimeoutMs = 10 * 60_000,
    readonly flavour: StreamFlavour = plainTcp,
    private readonly maxHeaders = 256,
  ) {}

  async listen(address: ListenAddress, options: ListenOptions = {}): Promise<ListenAddress> {
    const server = this.flavour.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      const spec = {
        port: address.port,
        host: address.host,
        ipv6Only: isIPv6(address.host),
        exclusive: options.exclusive ?? false,
      };
      server.listen(spec, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const addr = server.address();
    const port = typeof addr === "object" && addr !== null ? addr.port : address.port;
    const local: ListenAddress = { transport: this.flavour.transport, host: address.host, port };
    server.on("error", (err) => this.handlers.onError(err, local));
    // Admission on the raw TCP connection, for TLS too: a banned source gets no handshake, and
    // connections still handshaking count against the per-source limit (a TLS handshake costs
    // the server far more than the client; sip.limits.maxConnectionsPerSource).
    server.on("connection", (socket: Socket) => {
      const address = normalizeAddress(socket.remoteAddress ?? "");
      const open = this.perAddress.get(address) ?? 0;
      if (this.handlers.admitConnection?.(address, this.flavour.transport, open) === false) {
        socket.destroy();
        return;
      }
      this.perAddress.set(address, open + 1);
      socket.once("close", () => {
        const n = (this.perAddress.get(address) ?? 1) - 1;
        if (n <= 0) this.perAddress.delete(address);
        else this.perAddress.set(address, n);
      });
      if (this.flavour.acceptEvent === "connection") this.adopt(socket, local, true);
    });
    if (this.flavour.acceptEvent !== "connection") {
      server.on(this.flavour.acceptEvent, (socket: Socket) => {
        if (this.flavour.acceptsPeer?.(socket) === false) {
          socket.destroy();
          return;
        }
        this.adopt(socket, local, true);
      });
    }
    this.servers.push({ server, local });
    return local;
  }

  localFor(host: string): ListenAddress | null {
    const v6 = host.includes(":");
    const s = this.servers.find((x) => x.local.host.includes(":") === v6) ?? this.servers[0];
    return s?.local ?? null;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * RFC 5923 connection reuse: requests to `host:port` (the peer's advertised sent-by) go on this
   * accepted connection instead of a new one. The caller decides when that is safe.
   */
  alias(connectionId: number, host: string, port: number): void {
    const conn = this.connections.get(connectionId);
    if (conn === undefined) return;
    const key = remoteKey(host, port);
    if (this.byRemote.get(key) === connectionId) return;
    this.byRemote.set(key, connectionId);
    conn.aliases.push(key);
  }

  /** Whether a connection is still open (a response can go back on it). */
  hasConnection(id: number): boolean {
    return this.connections.has(id);
  }

  /**
   * Sends on `connectionId` when it is still open, else on an open connection to the
   * destination, else on a new connection.
   */
  send(
    dest: Destination,
    data: Uint8Array,
    onError: (err: Error) => void,
    connectionId?: number | null,
  ): void {
    let conn = connectionId != null ? this.connections.get(connectionId) : undefined;
    if (conn === undefined) {
      const id = this.byRemote.get(remoteKey(dest.host, dest.port));
      conn = id === undefined ? undefined : this.connections.get(id);
    }
    if (conn === undefined) {
      const local = this.localFor(dest.host);
      if (local === null) {
        onError(new Error(`no ${this.flavour.transport.toUpperCase()} listener for ${dest.host}`));
        return;
      }
      const socket = this.flavour.connect(dest);
      conn = this.adopt(socket, local, false, remoteKey(dest.host, dest.port));
    }
    if (!conn.connected) {
      conn.queue.push({ data, onError });
      return;
    }
    conn.socket.write(data, (err) => {
      if (err) onError(err);
    });
  }

  async close(): Promise<void> {
    for (const c of this.connections.values()) c.socket.destroy();
    this.connections.clear();
    this.byRemote.clear();
    await Promise.all(
      this.servers.map((s) => new Promise<void>((resolve) => s.server.close(() => resolve()))),
    );
    this.servers.length = 0;
  }

  private adopt(socket: Socket, local: ListenAddress, accepted: boolean, key?: string): Connection {
    const id = this.nextId++;
    const conn: Connection = {
      id,
      socket,
      remoteKey: key ?? remoteKey(socket.remoteAddress ?? "", socket.remotePort ?? 0),
      local,
      connected: accepted,
      queue: [],
      aliases: [],
    };
    this.connections.set(id, conn);
    this.byRemote.set(conn.remoteKey, id);
    // sip.maxMessageBytes bounds the whole message (header section and body together), as on
    // UDP; a stream over it is answered 413 and closed.
    const framer = new SipStreamFramer({
      maxHeaderBytes: this.maxMessageBytes,
      maxBodyBytes: this.maxMessageBytes,
      maxMessageBytes: this.maxMessageBytes,
      maxHeaders: this.maxHeaders,
    });
    socket.setTimeout(this.idleTimeoutMs, () => socket.destroy());
    socket.on(this.flavour.connectEvent, () => {
      conn.connected = true;
      for (const q of conn.queue.splice(0)) {
        socket.write(q.data, (err) => {
          if (err) q.onError(err);
        });
      }
    });
    // Computed once per connection: the peer and its certificate do not change. On a connection
    // we opened, the names are those of the server certificate we verified (RFC 5923: a gateway
    // sends its requests back on it, and is known by them as on a connection it opened).
    let source: MessageSource | null = null;
    socket.on("data", (chunk: Buffer) => {
      if (source === null) {
        const peerNames = this.flavour.peerNames?.(socket);
        source = {
          address: normalizeAddress(socket.remoteAddress ?? ""),
          port: socket.remotePort ?? 0,
          transport: this.flavour.transport,
          connectionId: id,
          local,
          ...(peerNames === undefined ? {} : { peerNames }),
        };
      }
      for (const ev of framer.push(chunk)) {
        if (ev.kind === "message") {
          if (this.handlers.admitMessage?.(source) === false) {
            socket.destroy();
            return;
          }
          this.handlers.onMessage({ data: ev.data, source });
        } else if (ev.kind === "ping") {
          // RFC 5626 §3.5.1: a CRLFCRLF keep-alive is answered with CRLF.
          socket.write("\r\n");
        } else if (ev.kind === "error") {
          // The stream cannot be re-synchronised after a framing error: answer, then close.
          this.handlers.onStreamError(source, ev.data, ev.error.status, ev.error.reason);
          socket.end();
          return;
        }
      }
    });
    const forget = (err?: Error) => {
      if (this.connections.get(id) !== conn) return;
      this.connections.delete(id);
      for (const k of [conn.remoteKey, ...conn.aliases])
        if (this.byRemote.get(k) === id) this.byRemote.delete(k);
      const failure = err ?? new Error("connection closed");
      for (const q of conn.queue.splice(0)) q.onError(failure);
    };
    socket.on("error", (err) => forget(err));
    socket.on("close", () => forget());
    return conn;
  }
}

/** `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket) is reported as `127.0.0.1`. */
function normalizeAddress(a: string): string {
  return a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a;
}
