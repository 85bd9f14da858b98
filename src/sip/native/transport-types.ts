// The transport layer's vocabulary (RFC 3261 §18), shared by the UDP/TCP transports and the proxy core.

export type NativeTransport = "udp" | "tcp";

export interface ListenAddress {
  readonly transport: NativeTransport;
  readonly host: string;
  readonly port: number;
}

/** Where a message came from; `connectionId` identifies the TCP connection (null over UDP). */
export interface MessageSource {
  readonly address: string;
  readonly port: number;
  readonly transport: NativeTransport;
  readonly connectionId: number | null;
  /** The local listen address the message arrived on. */
  readonly local: ListenAddress;
}

export interface Destination {
  readonly host: string;
  readonly port: number;
  readonly transport: NativeTransport;
}

export interface InboundMessage {
  readonly data: Buffer;
  readonly source: MessageSource;
}

export interface TransportHandlers {
  onMessage(message: InboundMessage): void;
  /** A stream broke framing (oversized, no Content-Length): `head` is the header section when read. */
  onStreamError(source: MessageSource, head: Buffer | null, status: number, reason: string): void;
  onError(err: Error, local: ListenAddress): void;
}
