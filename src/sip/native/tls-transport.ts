// SIP over TLS (RFC 3261 §26.2.1, §26.3.1): the TCP transport's connection handling with TLS
// sockets. Listeners present the certificate chain from `sip.tls`; connections to gateways send
// SNI and, with `verifyGateways`, check the peer certificate against the gateway FQDN (RFC 5922
// §7.2: the name from the configuration, not whatever the URI resolved to). With
// `requireClientCertificate` a client must present a certificate that chains to the trust
// anchors (mutual TLS); the names of a verified certificate are handed to the router to
// identify gateways.
//
// Credentials are read from files at start and again on reload (SIGHUP); a reload swaps the
// secure context for new handshakes only (`tls.Server#setSecureContext`), so established
// connections and the calls on them are untouched. `requestCert`/`rejectUnauthorized` are fixed
// when a server is made and setSecureContext cannot change them, so listeners always ask for a
// client certificate and whether one is required is decided per connection after the
// handshake, against the settings in force then (`acceptsPeer`).
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
import { readTlsFiles, type TlsFiles, TlsFilesError } from "../../config/tls-files.js";
import { readSystemTrustStore, type TrustStoreLookup } from "./system-trust-store.js";
import { type StreamFlavour, TcpTransport } from "./tcp-transport.js";
import type { Destination, TransportHandlers } from "./transport-types.js";

export type TlsSettings = NonNullable<SipSettings["tls"]>;

/**
 * The PEM material a TLS settings block names, read from disk; `ca` (the trust anchors) is the
 * caFile's, else the system bundle's, else absent: Node's bundled root store (README "Security
 * and limits").
 */
export interface TlsCredentials extends TlsFiles {
  /** Where the trust anchors came from: the caFile, the system bundle's file, or "node-bundled". */
  readonly trustAnchors?: string;
}

/**
 * Reads the files and checks them as `config check` does (config/tls-files.ts); throws a
 * TlsFilesError naming each problem at its path. Without a caFile the trust anchors are the
 * system bundle (system-trust-store.ts); `SSL_CERT_FILE` is read here, OpenSSL's own name for
 * overriding it.
 */
export async function readTlsCredentials(
  settings: TlsSettings,
  trustStore: TrustStoreLookup = { sslCertFile: process.env.SSL_CERT_FILE },
): Promise<TlsCredentials> {
  const { files, problems } = await readTlsFiles(settings);
  if (problems.length > 0) throw new TlsFilesError(problems);
  const system = files.ca === undefined ? await readSystemTrustStore(trustStore) : null;
  const creds: TlsCredentials = {
    ...files,
    ...(system === null ? {} : { ca: system.ca }),
    trustAnchors: settings.caFile ?? system?.file ?? "node-bundled",
  };
  // What the checks above cannot see (a chain OpenSSL refuses) fails here, before any use.
  createSecureContext(contextOptions(creds));
  return creds;
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

/** What the TLS flavour reports to the edge's log. */
export interface TlsEvents {
  /** A client's handshake failed (tlsClientError). */
  handshakeFailed(err: Error, remote: string): void;
  /** A client without a valid certificate was refused (requireClientCertificate). */
  clientRefused(remote: string, reason: string): void;
  /**
   * A TLS connection we opened failed before it was up: the peer certificate did not verify
   * (`verifyError`: OpenSSL's code, or ERR_TLS_CERT_ALTNAME_INVALID), or the handshake broke.
   */
  connectFailed(dest: Destination, err: Error, verifyError: string | null): void;
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
    private readonly events: TlsEvents,
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
    server.on("tlsClientError", (err, socket) => this.events.handshakeFailed(err, remoteOf(socket)));
    server.on("close", () => this.servers.delete(server));
    this.servers.add(server);
    return server;
  }

  /**
   * Mutual TLS per connection, with the settings in force now: when a client certificate is
   * required, a connection without one that verified is closed before anything is read.
   */
  acceptsPeer(socket: Socket): boolean {
    const tls = socket as TLSSocket;
    if (!this.settings.requireClientCertificate || tls.authorized) return true;
    const reason = tls.authorizationError === undefined ? "no certificate" : String(tls.authorizationError);
    this.events.clientRefused(remoteOf(tls), reason);
    return false;
  }

  connect(dest: Destination): TLSSocket {
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
    // Reported: failures between the TCP connection and TLS being up (a refused or unreachable
    // port is an ordinary transport failure). Node sets authorizationError for a chain or name
    // that did not verify before it fails the socket.
    let stage: "tcp" | "handshake" | "up" = "tcp";
    socket.once("connect", () => {
      stage = "handshake";
    });
    socket.once("secureConnect", () => {
      stage = "up";
    });
    socket.once("error", (err) => {
      if (stage === "handshake")
        this.events.connectFailed(dest, err, socket.authorizationError?.toString() ?? null);
    });
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

  /**
   * A client certificate is always asked for and never enforced by the handshake itself (see
   * the top of the file): `acceptsPeer` applies requireClientCertificate. A certificate that a
   * client offers and that verifies names it even when none is required.
   */
  private serverOptions(): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
    return { ...contextOptions(this.creds), requestCert: true, rejectUnauthorized: false };
  }
}

function remoteOf(socket: Socket): string {
  return `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
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
