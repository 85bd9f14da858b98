// SIP over TLS (RFC 3261 §26.2.1, §26.3.1): the TCP transport's connection handling with TLS
// sockets. Listeners present the certificate chain from `sip.tls`; connections to gateways send
// SNI and, with `verifyGateways`, check the peer certificate against the gateway FQDN (RFC 5922
// §7.2: the name from the configuration, not whatever the URI resolved to). With
// `requireClientCertificate` a client must present a certificate that chains to the trust
// anchors (mutual TLS) and its names are handed to the router to identify gateways.
//
// Credentials are read from files at start and again on reload (SIGHUP); a reload swaps the
// secure context for new handshakes only (`tls.Server#setSecureContext`), so established
// connections and the calls on them are untouched.
import { readFile } from "node:fs/promises";
import { isIP, type Socket } from "node:net";
import {
  checkServerIdentity,
  createSecureContext,
  type SecureContext,
  type SecureContextOptions,
  type TLSSocket,
  type Server as TlsServer,
  connect as tlsConnect,
  createServer as tlsCreateServer,
} from "node:tls";
import type { SipSettings } from "../../config/schema.js";
import { type StreamFlavour, TcpTransport } from "./tcp-transport.js";
import type { TransportHandlers } from "./transport-types.js";

export type TlsSettings = NonNullable<SipSettings["tls"]>;

/** The PEM material a TLS settings block names, read from disk. */
export interface TlsCredentials {
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** Trust anchors; absent = Node's bundled root store (see README "Security and limits"). */
  readonly ca?: Buffer;
}

/** Reads the files; throws with the file name when one cannot be read or is not PEM. */
export async function readTlsCredentials(settings: TlsSettings): Promise<TlsCredentials> {
  const read = async (file: string | undefined, what: string): Promise<Buffer | undefined> => {
    if (file === undefined) return undefined;
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (err) {
      throw new Error(`sip.tls.${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    if (!data.includes("-----BEGIN ")) throw new Error(`sip.tls.${what}: ${file} is not a PEM file`);
    return data;
  };
  const creds: TlsCredentials = {
    ...optional("cert", await read(settings.certFile, "certFile")),
    ...optional("key", await read(settings.keyFile, "keyFile")),
    ...optional("ca", await read(settings.caFile, "caFile")),
  };
  // createSecureContext checks that the key matches the certificate and that the PEM parses.
  createSecureContext(contextOptions(creds));
  return creds;
}

function optional<K extends string>(key: K, value: Buffer | undefined): { [P in K]?: Buffer } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: Buffer };
}

function contextOptions(c: TlsCredentials): SecureContextOptions {
  return {
    ...(c.cert ? { cert: c.cert } : {}),
    ...(c.key ? { key: c.key } : {}),
    ...(c.ca ? { ca: c.ca } : {}),
    // RFC 3261 §26.3.1 asks for TLS; nothing older than 1.2 is acceptable today (RFC 8996).
    minVersion: "TLSv1.2",
  };
}

/** The names a certificate vouches for: DNS subjectAltNames, else the subject CN (RFC 5922 §7.1). */
export function certificateNames(socket: TLSSocket): readonly string[] | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (cert === null || Object.keys(cert).length === 0) return undefined;
  const san = (cert.subjectaltname ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.startsWith("DNS:"))
    .map((s) => s.slice(4).toLowerCase());
  if (san.length > 0) return san;
  const cn = cert.subject?.CN;
  const cns = Array.isArray(cn) ? cn : cn === undefined ? [] : [cn];
  return cns.map((n) => n.toLowerCase());
}

/** The TLS flavour of the stream transport, holding the current credentials. */
export class TlsFlavour implements StreamFlavour {
  readonly transport = "tls" as const;
  readonly acceptEvent = "secureConnection" as const;
  readonly connectEvent = "secureConnect" as const;
  private readonly servers = new Set<TlsServer>();
  private clientContext: SecureContext;

  constructor(
    private settings: TlsSettings,
    private creds: TlsCredentials,
    private readonly onHandshakeError: (err: Error, remote: string) => void,
  ) {
    this.clientContext = createSecureContext(contextOptions(creds));
  }

  createServer(): TlsServer {
    if (this.creds.cert === undefined || this.creds.key === undefined)
      throw new Error("a TLS listener needs sip.tls.certFile and sip.tls.keyFile");
    const server = tlsCreateServer({
      ...this.serverOptions(),
      // Handshakes that never finish must not hold sockets: 10 s is plenty on any real link.
      handshakeTimeout: 10_000,
    });
    server.on("tlsClientError", (err, socket) =>
      this.onHandshakeError(err, `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`),
    );
    server.on("close", () => this.servers.delete(server));
    this.servers.add(server);
    return server;
  }

  connect(dest: { host: string; port: number; serverName?: string }): TLSSocket {
    const name = dest.serverName ?? (isIP(dest.host) === 0 ? dest.host : undefined);
    const socket = tlsConnect({
      host: dest.host,
      port: dest.port,
      secureContext: this.clientContext,
      // SNI carries a name, never an address (RFC 6066 §3).
      ...(name !== undefined && isIP(name) === 0 ? { servername: name } : {}),
      rejectUnauthorized: this.settings.verifyGateways,
      // The identity checked is the configured name (gateway FQDN) even when we connect to
      // its address (RFC 5922 §7.2, RFC 6125).
      ...(name !== undefined && this.settings.verifyGateways
        ? { checkServerIdentity: (_host: string, cert) => checkServerIdentity(name, cert) }
        : {}),
    });
    socket.setNoDelay(true);
    return socket;
  }

  peerNames(socket: Socket): readonly string[] | undefined {
    return certificateNames(socket as TLSSocket);
  }

  /** New credentials for new handshakes (existing connections keep theirs). */
  update(settings: TlsSettings, creds: TlsCredentials): void {
    this.settings = settings;
    this.creds = creds;
    this.clientContext = createSecureContext(contextOptions(creds));
    for (const server of this.servers) server.setSecureContext(this.serverOptions());
  }

  private serverOptions(): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
    const mutual = this.settings.requireClientCertificate;
    return { ...contextOptions(this.creds), requestCert: mutual, rejectUnauthorized: mutual };
  }
}

/** A TLS stream transport (same connection reuse, framing and idle handling as TCP). */
export function createTlsTransport(
  handlers: TransportHandlers,
  maxMessageBytes: number,
  idleTimeoutMs: number,
  flavour: TlsFlavour,
): TcpTransport {
  return new TcpTransport(handlers, maxMessageBytes, idleTimeoutMs, flavour);
}
