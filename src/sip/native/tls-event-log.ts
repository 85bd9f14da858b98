// What the TLS transport reports, in the log (tls-transport.ts `TlsEvents`). A gateway whose
// certificate fails verification fails every call attempt toward it, and a scanner can make
// handshakes fail as fast as it connects: each kind of message is logged at most once a minute
// per peer, with the number left out since.
import type { Logger } from "../../util/logger.js";
import type { TlsEvents } from "./tls-transport.js";
import type { Destination } from "./transport-types.js";

const QUIET_MS = 60_000;
/** Peers remembered at most (a flood of distinct sources must not grow the table for ever). */
const MAX_KEYS = 10_000;

export class TlsEventLog implements TlsEvents {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    /** Monotonic milliseconds. */
    private readonly now: () => number,
  ) {}

  /**
   * Certificate and handshake failures toward a gateway are warnings: calls fail over past it
   * and the operator has to act (renew, fix the FQDN, trust the right CA).
   */
  connectFailed(dest: Destination, err: Error, verifyError: string | null): void {
    const address = `${dest.host}:${dest.port}`;
    const gateway = dest.serverName ?? dest.host;
    const reason = verifyError ?? (err as NodeJS.ErrnoException).code ?? err.message;
    this.throttled(`out|${gateway}|${address}|${reason}`, (suppressed) =>
      this.log.warn(
        { gateway, address, verifyError: reason, err: err.message, ...suppressed },
        "TLS connection to gateway failed: certificate not accepted or handshake failed",
      ),
    );
  }

  handshakeFailed(err: Error, remote: string): void {
    // A connection closed before or during the handshake (a port scan, a source refused at
    // accept) teaches nothing: debug only.
    if ((err as NodeJS.ErrnoException).code === "ECONNRESET") {
      this.log.debug({ err: err.message, remote }, "TLS handshake failed");
      return;
    }
    this.throttled(`in|${hostOf(remote)}|${err.message}`, (suppressed) =>
      this.log.info({ err: err.message, remote, ...suppressed }, "TLS handshake failed"),
    );
  }

  clientRefused(remote: string, reason: string): void {
    this.throttled(`refused|${hostOf(remote)}`, (suppressed) =>
      this.log.info(
        { remote, reason, ...suppressed },
        "TLS client refused: requireClientCertificate and no valid certificate",
      ),
    );
  }

  private throttled(key: string, write: (suppressed: { suppressed?: number }) => void): void {
    const now = this.now();
    const seen = this.last.get(key);
    if (seen !== undefined && now - seen.at < QUIET_MS) {
      seen.suppressed++;
      return;
    }
    if (seen === undefined && this.last.size >= MAX_KEYS) this.forgetQuiet(now);
    write(seen !== undefined && seen.suppressed > 0 ? { suppressed: seen.suppressed } : {});
    this.last.set(key, { at: now, suppressed: 0 });
  }

  /** Drops the entries whose quiet time is over (their next message is logged anyway). */
  private forgetQuiet(now: number): void {
    for (const [k, v] of this.last) if (now - v.at >= QUIET_MS) this.last.delete(k);
    if (this.last.size >= MAX_KEYS) this.last.clear();
  }
}

/** `1.2.3.4:5061` → `1.2.3.4`; `[::1]:5061` or `::1:5061` → the address part. */
function hostOf(remote: string): string {
  const i = remote.lastIndexOf(":");
  return i === -1 ? remote : remote.slice(0, i);
}
