// What one peer may make the edge hold or process (issue #15): the flood guard in front of
// transport dispatch, and the per-source limit on open TCP/TLS connections. Sources the operator
// trusts (gateways' addresses, found by DNS too, tenants' trustedClientNetworks, sip.flood.allow:
// src/routing/trusted-sources.ts builds the list) are exempt from both: a busy SBC must never be
// banned or refused a connection.
import type { SipSettings } from "../../config/schema.js";
import type { TrustedSources } from "../../routing/trusted-sources.js";
import type { Logger } from "../../util/logger.js";
import type { SipRequest } from "../index.js";
import { FloodGuard, type FloodStats } from "./flood-guard.js";
import type {
  InboundMessage,
  ListenAddress,
  MessageSource,
  StreamTransport,
  TransportHandlers,
} from "./transport-types.js";

export interface ProtectionStats extends FloodStats {
  /** TCP/TLS connections refused: banned source or maxConnectionsPerSource reached. */
  readonly refusedConnections: number;
}

/** Transport handlers that apply the flood guard and connection limits, then dispatch. */
export class SourceProtection implements TransportHandlers {
  readonly flood: FloodGuard;
  private limits: SipSettings["limits"];
  private trusted: TrustedSources;
  private refusedConnections = 0;

  constructor(
    private readonly inner: TransportHandlers,
    settings: SipSettings,
    trusted: TrustedSources,
    now: () => number,
    private readonly log: Logger,
  ) {
    this.limits = settings.limits;
    this.trusted = trusted;
    this.flood = new FloodGuard(settings.flood, trusted, now, log);
  }

  /** Reload: new thresholds and allow list; bans in force stay (unless now allowed). */
  update(settings: SipSettings, trusted: TrustedSources): void {
    this.limits = settings.limits;
    this.trusted = trusted;
    this.flood.update(settings.flood, trusted);
  }

  /** A new allow list (a gateway's DNS answer, a routing version): counts and bans are kept. */
  retrust(trusted: TrustedSources): void {
    this.trusted = trusted;
    this.flood.retrust(trusted);
  }

  /** Over the limit: dropped without a word (no amplification); a stream is closed. */
  admitMessage(source: MessageSource): boolean {
    return this.flood.admit(source.address);
  }

  onMessage(m: InboundMessage): void {
    this.inner.onMessage(m);
  }

  /** After parsing: a scanner's request is dropped silently and bans its source. */
  refuseRequest(r: SipRequest, source: MessageSource): boolean {
    return this.flood.refuseUserAgent(r.header("user-agent"), source.address);
  }

  onStreamError(source: MessageSource, head: Buffer | null, status: number, reason: string): void {
    this.inner.onStreamError(source, head, status, reason);
  }

  onError(err: Error, local: ListenAddress): void {
    this.inner.onError(err, local);
  }

  admitConnection(address: string, transport: StreamTransport, openFromAddress: number): boolean {
    if (this.flood.isBanned(address)) {
      this.refusedConnections++;
      return false;
    }
    if (openFromAddress >= this.limits.maxConnectionsPerSource && !this.trusted(address)) {
      this.refusedConnections++;
      this.log.warn(
        { source: address, transport, limit: this.limits.maxConnectionsPerSource },
        "connection refused: too many open connections from this source",
      );
      return false;
    }
    return true;
  }

  get stats(): ProtectionStats {
    return { ...this.flood.stats, refusedConnections: this.refusedConnections };
  }
}
