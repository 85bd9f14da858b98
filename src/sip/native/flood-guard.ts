// Flood protection for a public SIP address (issue #15), in the spirit of Kamailio's `pike`:
// every source address may send `threshold` messages per `windowSeconds`; one that sends more is
// banned for `banSeconds`, and while banned everything it sends is dropped without an answer
// (answering a flood would make the proxy an amplifier, RFC 3261 §26.1.5 / RFC 5390 §3). Known
// gateways, tenants' trusted client networks and `sip.flood.allow` are never counted. Requests
// from scanners (friendly-scanner, sipvicious…) are dropped silently too and ban their source.
//
// Pure bookkeeping with an injected clock: the edge asks before parsing (`admit`) and after
// (`refuseUserAgent`). Memory stays bounded by the addresses seen within one window: entries
// whose window ended and that are not banned are swept once per window.
import type { Logger } from "../../util/logger.js";

export interface FloodSettings {
  readonly enabled: boolean;
  readonly threshold: number;
  readonly windowSeconds: number;
  readonly banSeconds: number;
  readonly scannerUserAgents: readonly string[];
}

/** Counters for metrics (the metrics module reads them; they only grow, except `bannedNow`). */
export interface FloodStats {
  /** Sources banned since start (a source banned twice counts twice). */
  readonly bans: number;
  /** Messages dropped because their source was banned. */
  readonly droppedMessages: number;
  /** Requests dropped because their User-Agent is a scanner's. */
  readonly scannerRequests: number;
  /** Sources banned at this moment. */
  readonly bannedNow: number;
}

interface SourceEntry {
  windowStart: number;
  count: number;
  bannedUntil: number;
  trusted: boolean;
}

export class FloodGuard {
  private readonly sources = new Map<string, SourceEntry>();
  private settings: FloodSettings;
  private scanners: readonly string[];
  private trusted: (address: string) => boolean;
  private lastSweep: number;
  private bans = 0;
  private dropped = 0;
  private scannerRequests = 0;

  constructor(
    settings: FloodSettings,
    trusted: (address: string) => boolean,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {
    this.settings = settings;
    this.scanners = settings.scannerUserAgents.map((s) => s.toLowerCase());
    this.trusted = trusted;
    this.lastSweep = now();
  }

  /** New settings or allow list (reload): counts and bans in force are kept. */
  update(settings: FloodSettings, trusted: (address: string) => boolean): void {
    this.settings = settings;
    this.scanners = settings.scannerUserAgents.map((s) => s.toLowerCase());
    // New thresholds: counts start again (entries are rebuilt on demand); bans in force stay
    // unless the source is now allowed.
    for (const [address, e] of this.sources) if (e.bannedUntil === 0) this.sources.delete(address);
    this.retrust(trusted);
  }

  /**
   * A new allow list while the settings stay (a gateway's DNS answer, a routing version): each
   * known source is judged again, counts go on, and a source now allowed is no longer banned.
   */
  retrust(trusted: (address: string) => boolean): void {
    this.trusted = trusted;
    for (const [address, e] of this.sources) {
      e.trusted = trusted(address);
      if (!e.trusted || e.bannedUntil === 0) continue;
      this.sources.delete(address);
      this.log.info({ source: address }, "flood ban lifted: the source is now trusted");
    }
  }

  /** Whether a message from `address` may be processed (counts it). Hot path: one map lookup. */
  admit(address: string): boolean {
    if (!this.settings.enabled) return true;
    const t = this.now();
    let e = this.sources.get(address);
    if (e === undefined) {
      this.maybeSweep(t);
      e = { windowStart: t, count: 0, bannedUntil: 0, trusted: this.trusted(address) };
      this.sources.set(address, e);
    }
    if (e.trusted) return true;
    if (e.bannedUntil !== 0) {
      if (t < e.bannedUntil) {
        this.dropped++;
        return false;
      }
      e.bannedUntil = 0;
      e.windowStart = t;
      e.count = 0;
      this.log.info({ source: address }, "flood ban lifted");
    }
    if (t - e.windowStart >= this.settings.windowSeconds * 1000) {
      e.windowStart = t;
      e.count = 0;
    }
    if (++e.count > this.settings.threshold) {
      this.ban(address, e, t, "rate");
      this.dropped++;
      return false;
    }
    return true;
  }

  /** Whether a source is banned now (a new TCP/TLS connection from it is closed at once). */
  isBanned(address: string): boolean {
    const e = this.sources.get(address);
    return e !== undefined && e.bannedUntil !== 0 && this.now() < e.bannedUntil;
  }

  /**
   * A request whose User-Agent names a scanner: dropped silently, and its source banned. From an
   * allowed source (a gateway, a trusted network) it is dropped too -- no gateway sends as
   * sipvicious -- but the source is not banned, so one compromised host cannot cut a gateway off.
   */
  refuseUserAgent(userAgent: string | undefined, address: string): boolean {
    if (!this.settings.enabled || userAgent === undefined || this.scanners.length === 0) return false;
    const ua = userAgent.toLowerCase();
    if (!this.scanners.some((s) => ua.includes(s))) return false;
    this.scannerRequests++;
    const e = this.sources.get(address);
    if (e?.trusted) return true;
    const t = this.now();
    const entry = e ?? { windowStart: t, count: 0, bannedUntil: 0, trusted: false };
    this.sources.set(address, entry);
    if (entry.bannedUntil === 0) this.ban(address, entry, t, "scanner", userAgent);
    return true;
  }

  get stats(): FloodStats {
    const t = this.now();
    let bannedNow = 0;
    for (const e of this.sources.values()) if (e.bannedUntil !== 0 && t < e.bannedUntil) bannedNow++;
    return {
      bans: this.bans,
      droppedMessages: this.dropped,
      scannerRequests: this.scannerRequests,
      bannedNow,
    };
  }

  private ban(address: string, e: SourceEntry, t: number, why: "rate" | "scanner", userAgent?: string): void {
    e.bannedUntil = t + this.settings.banSeconds * 1000;
    this.bans++;
    this.log.warn(
      {
        source: address,
        why,
        banSeconds: this.settings.banSeconds,
        ...(why === "rate"
          ? { threshold: this.settings.threshold, windowSeconds: this.settings.windowSeconds }
          : { userAgent: userAgent?.slice(0, 100) }),
      },
      why === "rate" ? "source banned: too many requests" : "source banned: scanner user agent",
    );
  }

  private maybeSweep(t: number): void {
    if (t - this.lastSweep < this.settings.windowSeconds * 1000) return;
    this.lastSweep = t;
    const windowMs = this.settings.windowSeconds * 1000;
    for (const [a, e] of this.sources) {
      if (e.bannedUntil !== 0 && t < e.bannedUntil) continue;
      if (e.trusted || t - e.windowStart >= windowMs) this.sources.delete(a);
    }
  }
}
