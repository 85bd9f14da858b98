// The transport layer's vocabulary (RFC 3261 §18), shared by the UDP/TCP transports and the proxy core.

export type NativeTransport = "udp" | "tcp" | "tls";

/** The connection-oriented transports (RFC 3261 §18: framed by Content-Length, connections reused). */
export type StreamTransport = "tcp" | "tls";

export interface ListenAddress {
  readonly transport: NativeTransport;
  readonly host: string;
  readonly port: number;
}

/**
 * How a listen address is bound when several worker processes serve one SIP port
 * (src/cluster): `shared` sockets are the configured port, shared by every worker through the
 * cluster primary; an `exclusive` one is this worker's own port, used in its Via and
 * Record-Route so that responses and in-dialog requests come straight back to it. Bind
 * exclusive addresses first: the first address of a family is the one messages leave from.
 */
export interface ListenOptions {
  readonly exclusive?: boolean;
  readonly shared?: boolean;
}

/**
 * The native edge as one of several worker processes sharing the SIP listen ports (src/cluster):
 * it binds an own port per listen address first, joins the cluster with them, and binds the
 * shared ports with the dispatch it gets back.
 */
export interface EdgeWorkerRole {
  /** The own port to bind for listen address `listenIndex` (0: any); `required`: no fallback. */
  ownPort(listenIndex: number): { readonly port: number; readonly required: boolean };
  /** Announces the own addresses; resolves once every sibling's own UDP ports are known. */
  join(own: readonly ListenAddress[]): Promise<UdpDispatch>;
}

/**
 * Worker dispatch on shared UDP sockets (src/cluster/shared-port-dispatch.ts): a datagram that
 * belongs to another worker is relayed to it; a relayed one is unwrapped with its original source.
 */
export interface UdpDispatch {
  /** Whether `data` is a relay envelope from a sibling worker. */
  isRelayed(data: Buffer): boolean;
  /** The original message inside an envelope (null when it is not a valid one from a sibling). */
  unwrap(
    data: Buffer,
    sharedLocal: (v6: boolean, port: number) => ListenAddress | null,
  ): InboundMessage | null;
  /** For a datagram on a shared socket: true when it was relayed to the worker that owns it. */
  relayIfForeign(
    data: Buffer,
    source: MessageSource,
    send: (data: Buffer, port: number, host: string) => void,
  ): boolean;
}

/** Where a message came from; `connectionId` identifies the TCP connection (null over UDP). */
export interface MessageSource {
  readonly address: string;
  readonly port: number;
  readonly transport: NativeTransport;
  readonly connectionId: number | null;
  /** The local listen address the message arrived on. */
  readonly local: ListenAddress;
  /**
   * TLS only: the DNS names (subjectAltName, else CN) of the peer's certificate when it verified
   * against the trust anchors: a client certificate on a connection the peer opened, the server
   * certificate we checked on one we opened (RFC 5923 reuse); absent otherwise.
   */
  readonly peerNames?: readonly string[];
}

export interface Destination {
  readonly host: string;
  readonly port: number;
  readonly transport: NativeTransport;
  /**
   * TLS only: the name sent as SNI and checked against the peer certificate (the gateway FQDN,
   * or the URI host), when `host` is an address.
   */
  readonly serverName?: string;
}

export interface InboundMessage {
  readonly data: Buffer;
  readonly source: MessageSource;
}

export interface TransportHandlers {
  onMessage(message: InboundMessage): void;
  /**
   * Asked before each message is handed on: false drops it unread (flood ban) and closes the
   * TCP/TLS connection it came on. Absent: every message is taken.
   */
  admitMessage?(source: MessageSource): boolean;
  /** A stream broke framing (oversized, no Content-Length): `head` is the header section when read. */
  onStreamError(source: MessageSource, head: Buffer | null, status: number, reason: string): void;
  onError(err: Error, local: ListenAddress): void;
  /**
   * A TCP/TLS connection is being accepted from `address` (before any TLS handshake; those
   * still handshaking count in `openFromAddress`): false closes it at once (flood ban,
   * per-source connection limit). Absent: every connection is accepted.
   */
  admitConnection?(address: string, transport: StreamTransport, openFromAddress: number): boolean;
}
