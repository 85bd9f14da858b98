import type { SipSettings } from "../../config/schema.js";
import { listensOnTls } from "../../config/tls-files.js";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import { TlsEventLog } from "./tls-event-log.js";
import { readTlsCredentials, type TlsCredentials, TlsFlavour, type TlsSettings } from "./tls-transport.js";

/**
 * The native edge's TLS (tls-transport.ts): the credentials read at start, for `tls` listeners
 * and for gateways reached over TLS, and their reload on SIGHUP. Split from native-edge.ts, which
 * only starts it and hands the flavour to the transport layer.
 */
export class EdgeTls {
  private flavour: TlsFlavour | null = null;

  constructor(
    private readonly sip: SipSettings,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  /** Reads the files and builds the TLS flavour the transport layer uses. */
  async start(): Promise<TlsFlavour> {
    const settings: TlsSettings = this.sip.tls ?? { verifyGateways: true, requireClientCertificate: false };
    let creds: TlsCredentials;
    if (this.sip.tls !== undefined && listensOnTls(this.sip.listen))
      creds = await readTlsCredentials(settings);
    else {
      // Without a tls listener nothing speaks TLS (a `tls` gateway needs one: config/security-
      // checks.ts; one pushed through Redis is logged as unreachable), so files that cannot be read
      // -- a sip.tls kept for later, a bad SSL_CERT_FILE -- must not stop the proxy.
      creds = await readTlsCredentials(settings).catch((err: Error) => {
        this.log.warn(
          { err: err.message },
          "TLS files not read (no tls listener uses them); outgoing TLS would trust Node's bundled roots",
        );
        return {};
      });
    }
    this.logTrustAnchors(creds);
    this.flavour = new TlsFlavour(settings, creds, new TlsEventLog(this.log, () => this.clock.monotonic()));
    return this.flavour;
  }

  /**
   * Re-reads the certificate, key and trust anchors (SIGHUP): new handshakes use them,
   * connections already up keep theirs. Throws (and keeps the old ones) when a file is bad.
   */
  async reload(settings: TlsSettings, creds?: TlsCredentials): Promise<void> {
    const fresh = creds ?? (await readTlsCredentials(settings));
    this.flavour?.update(settings, fresh);
    this.logTrustAnchors(fresh);
    this.log.info({ certFile: settings.certFile }, "TLS credentials reloaded");
  }

  private logTrustAnchors(creds: TlsCredentials): void {
    if (creds.trustAnchors === undefined) return;
    if (creds.trustAnchors !== "node-bundled") {
      this.log.info({ trustAnchors: creds.trustAnchors }, "TLS trust anchors");
      return;
    }
    const message =
      "TLS: no system CA bundle found (install ca-certificates, or set sip.tls.caFile): using Node's bundled roots";
    if (this.sip.tls !== undefined) this.log.warn(message);
    else this.log.debug(message);
  }
}
