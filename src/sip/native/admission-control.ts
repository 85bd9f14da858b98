// Admission control for new calls (overload, RFC 7339's ideas applied locally). A Node process
// reading UDP never "lags" the way a thread pool queues: libuv reads a bounded batch of
// datagrams per loop turn, so at saturation the backlog grows in the kernel's socket buffer,
// datagrams are dropped, every peer retransmits and goodput collapses. What shows saturation
// is the event loop's utilisation (the share of wall time not spent waiting in epoll). Every
// `periodMs` the controller compares it with the target and moves a rejection fraction up or
// down, like the loss-based algorithm of RFC 7339 §5.10 but applied by the overloaded server
// itself: that share of new out-of-dialog INVITEs is answered at once, statelessly, with
// 503 + Retry-After (RFC 3261 §21.5.4), which costs a fraction of a call. Everything else
// (in-dialog requests, responses, CANCEL, retransmissions of admitted INVITEs) is always
// served, so admitted calls complete.
import { performance } from "node:perf_hooks";

/** The load signals. */
export interface LoadProbe {
  /** The event loop's busy fraction (0–1) since the previous call. */
  sample(): number;
  /**
   * Bytes of datagrams waiting to be read (udp-backlog.ts); absent or null when the system
   * cannot say, and then the busy fraction decides alone.
   */
  backlogBytes?(): number | null;
}

/** Node's event-loop utilisation (perf_hooks), as a delta between samples, and the UDP backlog. */
export class EventLoopProbe implements LoadProbe {
  private last = performance.eventLoopUtilization();

  constructor(private readonly backlog: () => number | null = () => null) {}

  sample(): number {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, this.last);
    this.last = now;
    return delta.utilization;
  }

  backlogBytes(): number | null {
    return this.backlog();
  }
}

export interface AdmissionSettings {
  readonly enabled: boolean;
  /** Utilisation above which rejection grows. */
  readonly targetUtilization: number;
  readonly retryAfterSeconds: number;
}

/** How much the rejection fraction moves per period, and its ceiling (some calls always get through). */
const STEP = 0.05;
const MAX_REJECT = 0.95;
/** Below target minus this, rejection falls back (hysteresis against flapping). */
const BAND = 0.1;
/**
 * Weight of the newest sample in the smoothed utilisation (about a half-second time constant
 * at 100 ms periods). A single busy window (a GC pause, a batch of timers) is not overload: the
 * first load run with raw 100 ms samples shed calls at 70% average CPU on a shared host.
 */
const SMOOTHING = 0.2;
/**
 * A receive backlog above this is the proxy falling behind: about 300 call datagrams (kernel
 * accounting counts ~1.5 KB per small loopback datagram), some 40 ms of work at this rig's
 * maximum, far inside the 500 ms after which callers retransmit. A GC pause queues less.
 */
export const BACKLOG_LIMIT_BYTES = 512 * 1024;

export class AdmissionControl {
  private rejectFraction = 0;
  private smoothed = 0;
  private timer: NodeJS.Timeout | null = null;
  private rejectedCount = 0;
  private lastBacklog: number | null = null;

  constructor(
    private readonly settings: AdmissionSettings,
    private readonly probe: LoadProbe = new EventLoopProbe(),
    private readonly random: () => number = Math.random,
    private readonly periodMs = 100,
  ) {}

  start(): void {
    if (!this.settings.enabled || this.timer !== null) return;
    this.probe.sample();
    this.timer = setInterval(() => this.update(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One control step (the interval calls it; exposed for tests). */
  update(): void {
    this.smoothed += SMOOTHING * (this.probe.sample() - this.smoothed);
    const u = this.smoothed;
    // A busy loop is not yet overload: on a shared host the utilisation also counts the time the
    // process waits for a CPU someone else has, and at 84% CPU that refused calls the proxy was
    // keeping up with (bench/README.md). Overload leaves datagrams waiting, so where the system
    // shows that queue, shedding needs it too; a short queue lets shedding fall back at once.
    // Read only when it can matter (a /proc read costs ~0.2 ms): a loop well below the target
    // and not shedding decides nothing by it.
    if (u < this.settings.targetUtilization - BAND && this.rejectFraction === 0) return;
    const backlog = this.probe.backlogBytes?.() ?? null;
    this.lastBacklog = backlog;
    const behind = backlog === null || backlog > BACKLOG_LIMIT_BYTES;
    if (u > this.settings.targetUtilization && behind)
      this.rejectFraction = Math.min(MAX_REJECT, this.rejectFraction + STEP);
    else if (
      u < this.settings.targetUtilization - BAND ||
      (backlog !== null && backlog < BACKLOG_LIMIT_BYTES / 4)
    )
      this.rejectFraction = Math.max(0, this.rejectFraction - STEP);
  }

  /** Whether a new call may start now. */
  admit(): boolean {
    if (this.rejectFraction === 0) return true;
    const ok = this.random() >= this.rejectFraction;
    if (!ok) this.rejectedCount++;
    return ok;
  }

  get retryAfter(): string {
    return String(this.settings.retryAfterSeconds);
  }

  /** The share of new calls currently refused, how many were, and the last backlog read. */
  get state(): {
    readonly rejectFraction: number;
    readonly rejected: number;
    readonly backlogBytes: number | null;
  } {
    return {
      rejectFraction: this.rejectFraction,
      rejected: this.rejectedCount,
      backlogBytes: this.lastBacklog,
    };
  }
}
