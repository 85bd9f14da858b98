// SIP over TLS peers written with Node's tls module, for tests that need what stunnel around
// SIPp cannot give: the TLS socket itself (its certificate, when it closes, from which source
// address) and requests sent back on a connection the other side opened (RFC 5923). Every peer
// opened here is registered, so that `closeAllTlsPeers()` (call it in afterEach) leaves none
// open when a test fails half-way.
import { readFileSync } from "node:fs";
import { createServer, type Server, type TLSSocket, connect as tlsConnect } from "node:tls";
import type { RouteTarget } from "../../src/routing/decision.js";
import { SipStreamReader } from "./raw-sip-client.js";
import type { IssuedCertificate } from "./test-pki.js";

/** What closes each peer still open (removed when the peer closes by itself). */
const openPeers = new Set<() => unknown>();

/** Closes every TLS client and gateway still open (afterEach). */
export async function closeAllTlsPeers(): Promise<void> {
  for (const close of [...openPeers]) await close();
  openPeers.clear();
}

export interface TlsClient {
  readonly socket: TLSSocket;
  /** Whether the handshake completed. */
  readonly secure: boolean;
  readonly closed: boolean;
  /** Everything received, as text. */
  readonly received: string;
  /** The SIP messages received, one per entry. */
  readonly messages: string[];
}

/**
 * A TLS connection to dialgate; resolves once the handshake completed or the connection ended
 * (then `secure` is false).
 */
export async function openTlsClient(options: {
  readonly port: number;
  readonly caFile: string;
  readonly servername?: string;
  readonly cert?: IssuedCertificate;
  readonly localAddress?: string;
}): Promise<TlsClient> {
  const state = { secure: false, closed: false, received: "", messages: [] as string[] };
  const reader = new SipStreamReader((m) => state.messages.push(m));
  const socket = tlsConnect({
    host: "127.0.0.1",
    port: options.port,
    ca: readFileSync(options.caFile),
    servername: options.servername ?? "dialgate.test",
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    ...(options.cert
      ? { cert: readFileSync(options.cert.certFile), key: readFileSync(options.cert.keyFile) }
      : {}),
  });
  const destroy = () => socket.destroy();
  openPeers.add(destroy);
  socket.once("close", () => openPeers.delete(destroy));
  socket.on("data", (d: Buffer) => {
    state.received += d.toString("latin1");
    reader.push(d);
  });
  socket.on("error", () => {});
  await new Promise<void>((resolve) => {
    socket.once("secureConnect", () => {
      state.secure = true;
      resolve();
    });
    socket.once("close", () => {
      state.closed = true;
      resolve();
    });
  });
  socket.on("close", () => {
    state.closed = true;
  });
  return {
    socket,
    get secure() {
      return state.secure;
    },
    get closed() {
      return state.closed;
    },
    get received() {
      return state.received;
    },
    messages: state.messages,
  };
}

export interface TlsGatewayMessage {
  readonly text: string;
  /** The connection it came on. */
  readonly socket: TLSSocket;
}

/** A SIP gateway on a TLS port: records what it receives; the test answers through `onMessage`. */
export class TlsSipGateway {
  readonly messages: TlsGatewayMessage[] = [];
  readonly handshakeErrors: string[] = [];
  private readonly sockets = new Set<TLSSocket>();
  private readonly stopOnCleanup = () => this.stop();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly onMessage: (m: TlsGatewayMessage) => void,
  ) {}

  static async start(
    cert: IssuedCertificate,
    onMessage: (m: TlsGatewayMessage) => void = () => {},
  ): Promise<TlsSipGateway> {
    const server = createServer({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    const gw = new TlsSipGateway(server, port, onMessage);
    openPeers.add(gw.stopOnCleanup);
    server.on("tlsClientError", (err) => gw.handshakeErrors.push(err.message));
    server.on("secureConnection", (socket) => {
      gw.sockets.add(socket);
      socket.on("close", () => gw.sockets.delete(socket));
      socket.on("error", () => {});
      const reader = new SipStreamReader((text) => {
        const m = { text, socket };
        gw.messages.push(m);
        gw.onMessage(m);
      });
      socket.on("data", (d: Buffer) => reader.push(d));
    });
    return gw;
  }

  /** Received requests with this method. */
  requests(method: string): TlsGatewayMessage[] {
    return this.messages.filter((m) => m.text.startsWith(`${method} `));
  }

  async stop(): Promise<void> {
    openPeers.delete(this.stopOnCleanup);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A header's values in a message (each line; comma lists not split). */
export function headerValues(text: string, name: string): string[] {
  const head = text.split("\r\n\r\n")[0] ?? "";
  return head
    .split("\r\n")
    .slice(1)
    .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((l) => l.slice(l.indexOf(":") + 1).trim());
}

/**
 * A response to `request` with its Via, From, Call-ID and CSeq (§8.2.6.2), its To with `toTag`,
 * and the extra header lines given.
 */
export function responseTo(
  request: string,
  status: string,
  toTag: string,
  extra: readonly string[] = [],
): string {
  const copied = (name: string) => headerValues(request, name).map((v) => `${name}: ${v}`);
  const to = headerValues(request, "To")[0] ?? "";
  return [
    `SIP/2.0 ${status}`,
    ...copied("Via"),
    ...copied("Record-Route"),
    ...copied("From"),
    `To: ${/;\s*tag=/i.test(to) ? to : `${to};tag=${toTag}`}`,
    ...copied("Call-ID"),
    ...copied("CSeq"),
    ...extra,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

/** A gateway target reached over TLS on loopback whose certificate must name `fqdn`. */
export function tlsGatewayTarget(fqdn: string, port: number): RouteTarget {
  return {
    requestUri: `sip:+14255550100@${fqdn}:${port};user=phone`,
    destination: { host: "127.0.0.1", port, transport: "tls" },
    label: fqdn,
    gateway: fqdn,
  };
}

/** A TlsSipGateway script that answers every INVITE with `status` ("486 Busy Here"). */
export function answerInvites(status: string): (m: TlsGatewayMessage) => void {
  return (m) => {
    if (m.text.startsWith("INVITE ")) m.socket.write(responseTo(m.text, status, "gw1"));
  };
}

/** The status of the first final response among received messages. */
export function finalStatus(messages: readonly string[]): number | undefined {
  return messages.map((m) => Number(/^SIP\/2\.0 (\d{3})/.exec(m)?.[1] ?? 0)).find((s) => s >= 200);
}

/** An OPTIONS to dialgate's TLS port `port`, as a peer at 127.0.0.1:5061 sends it (Via TLS, rport). */
export function optionsOverTls(id: string, port: number): string {
  return [
    `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK${id};rport`,
    "Max-Forwards: 70",
    `From: <sip:probe@127.0.0.1>;tag=${id}`,
    `To: <sip:127.0.0.1:${port}>`,
    `Call-ID: ${id}@test`,
    "CSeq: 1 OPTIONS",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}
