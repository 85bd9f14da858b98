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
import { eventLoopUtilisationSampler } from "./event-loop-utilisation.js";

/** The load signals. */
export interface LoadProbe {
  /** The event loop's busy fraction (0–1) since the previous call. */
  sample(): number;
  /**
   * Bytes of datagrams waiting to be read (udp-backlog.ts); absent or null when the system
   * cannot say, and then the busy fraction decides alone.
   */
  backlogBytes?(): number | null;
  /**
   * Datagrams the process read from its UDP sockets since the previous call: how fast it drains
   * its queue while one waits. Absent or null when unknown; the backlog limit is then fixed.
   */
  datagramsRead?(): number | null;
}

/**
 * Node's event-loop utilisation (perf_hooks), as a delta between samples, the UDP backlog, and
 * the datagrams read (from a running count).
 */
export class EventLoopProbe implements LoadProbe {
  readonly sample = eventLoopUtilisationSampler();
  private lastReads: number | null = null;

  constructor(
    private readonly backlog: () => number | null = () => null,
    private readonly readCount: () => number | null = () => null,
  ) {}

  datagramsRead(): number | null {
    const count = this.readCount();
    const previous = this.lastReads;
    this.lastReads = count;
    return count === null || previous === null ? null : count - previous;
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

/** The rejection fraction moves in 5% steps (1/20), up to 95% (some calls always get through). */
const STEPS_PER_UNIT = 20;
const MAX_REJECT_STEPS = 19;
/**
 * A backlog several times the limit raises the fraction by up to this many steps in one period.
 * A proxy started cold into full load (JIT not warm yet) filled its 8 MB receive buffer in under
 * two seconds while one step per 100 ms was still climbing, and the kernel's drops then killed
 * admitted calls (their responses lost, the gateway's INVITE retransmitted): bench/README.md.
 */
const MAX_STEPS_PER_PERIOD = 6;
/** Below target minus this, rejection falls back (hysteresis against flapping). */
const BAND = 0.1;
/**
 * Weight of the newest sample in the smoothed utilisation (about a half-second time constant
 * at 100 ms periods). A single busy window (a GC pause, a batch of timers) is not overload: the
 * first load run with raw 100 ms samples shed calls at 70% average CPU on a shared host.
 * With the backlog known, the raw sample may start shedding too: a queue past the limit rules
 * out a lone busy window, and waiting for the smoothed value (1.4 s from idle to 0.95) is what
 * let a cold start overflow.
 */
const SMOOTHING = 0.2;
/**
 * A receive backlog above this is the proxy falling behind: about 300 call datagrams (kernel
 * accounting counts ~1.5 KB per small loopback datagram), some 40 ms of work at this rig's
 * maximum, far inside the 500 ms after which callers retransmit. A GC pause queues less.
 */
export const BACKLOG_LIMIT_BYTES = 512 * 1024;
/**
 * A queue past the limit but no deeper than this many limits waits for the next period before
 * it raises the share: once when it first shows (a stall, not yet a trend), and as long as it
 * shrinks (a burst being worked off). Deeper, it raises at once.
 */
const DRAINING_CEILING = 2;
/**
 * The limit also stands for time: a queue is too long once draining it at the rate the process
 * reads datagrams would take longer than this. At this rig's single-process maximum (~1,200
 * datagrams per 100 ms) that is the fixed limit above. A process that gets less of a CPU drains
 * slower: two workers sharing two vCPUs with SIPp read ~400 per 100 ms each, so 512 KB was ~85 ms
 * of their work, and queues of 2 MB (~330 ms) let the gateways' answers wait until the proxy's
 * INVITE retransmission timer fired and admitted calls failed (bench/README.md). The rate is
 * the period's read count, or the count smoothed like the utilisation when that is higher: a
 * period with a stall in it reads little, and judging its queue by that period alone had made
 * the limit a quarter of the usual one exactly when a stall had filled the queue.
 */
const DRAIN_TARGET_MS = 30;
/**
 * Kernel accounting of one datagram in rx_queue (its truesize). Measured on loopback: 1,280 bytes
 * for a 400-byte datagram, 2,304 for 700 to 1,400 bytes; a call's mix of short responses and
 * ACKs and longer INVITEs falls between. Too low a figure only lowers the limit (sheds sooner).
 */
const KERNEL_BYTES_PER_DATAGRAM = 1536;
/** The time-based limit never falls below this: a few dozen datagrams are no queue. */
const MIN_BACKLOG_LIMIT_BYTES = 64 * 1024;

/**
 * The backlog limit for sockets whose receive buffer is `receiveBufferBytes` (the kernel's own
 * accounting, which rx_queue uses too): BACKLOG_LIMIT_BYTES, or a quarter of a smaller buffer.
 * A stock Linux caps the buffer at 2 * 212,992 bytes (net.core.rmem_max), under the limit: the
 * queue could never pass it, the kernel would drop instead, and admission control would never
 * shed.
 */
export function backlogLimitFor(receiveBufferBytes: number | null): number {
  if (receiveBufferBytes === null || receiveBufferBytes <= 0) return BACKLOG_LIMIT_BYTES;
  return Math.min(BACKLOG_LIMIT_BYTES, Math.floor(receiveBufferBytes / 4));
}

export class AdmissionControl {
  /**
   * The share refused, in whole 5% steps: counted, so the share is exactly k/20 (adding and
   * subtracting 0.05 had left 2e-16 on /metrics where 0 was meant).
   */
  private rejectSteps = 0;
  private smoothed = 0;
  private timer: NodeJS.Timeout | null = null;
  private rejectedCount = 0;
  private lastBacklog: number | null = null;
  /** Whether the previous period read the backlog (lastBacklog is then that period's queue). */
  private readLastPeriod = false;
  /** Datagrams read per period, smoothed (null until the probe first counts them). */
  private smoothedReads: number | null = null;
  /** Between start and stop (the edge is up), whether or not `enabled` lets the timer run. */
  private started = false;
  /** A queue past this is the proxy falling behind (backlogLimitFor: the sockets' buffers). */
  private backlogLimit = BACKLOG_LIMIT_BYTES;
  /** The limit the last read of the backlog was judged against (limitFor). */
  private lastLimit = BACKLOG_LIMIT_BYTES;

  constructor(
    private settings: AdmissionSettings,
    private readonly probe: LoadProbe = new EventLoopProbe(),
    private readonly random: () => number = Math.random,
    private readonly periodMs = 100,
  ) {}

  start(): void {
    this.started = true;
    if (!this.settings.enabled || this.timer !== null) return;
    // Both counts start over: the first period measures itself, not the time before it.
    this.probe.sample();
    this.probe.datagramsRead?.();
    this.timer = setInterval(() => this.update(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    this.started = false;
    this.halt();
  }

  /** The queue that counts as falling behind, once the sockets' receive buffers are known. */
  setBacklogLimit(bytes: number): void {
    this.backlogLimit = bytes;
    this.lastLimit = bytes;
  }

  /**
   * Reload (`sip.overload`): a new target and Retry-After apply from the next step and the next
   * refusal; the share being shed carries on from where it is (the load has not changed).
   * Turned off, nothing more is refused; turned on while the edge is up, control starts.
   */
  reconfigure(settings: AdmissionSettings): void {
    this.settings = settings;
    if (!settings.enabled) {
      this.halt();
      this.rejectSteps = 0;
      this.smoothed = 0;
      this.smoothedReads = null;
      this.readLastPeriod = false;
    } else if (this.started) this.start();
  }

  private halt(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One control step (the interval calls it; exposed for tests). */
  update(): void {
    const sample = this.probe.sample();
    // Read every period, so that the count covers one period only.
    const reads = this.probe.datagramsRead?.() ?? null;
    if (reads !== null)
      this.smoothedReads =
        this.smoothedReads === null ? reads : this.smoothedReads + SMOOTHING * (reads - this.smoothedReads);
    this.smoothed += SMOOTHING * (sample - this.smoothed);
    const u = this.smoothed;
    // The busier of this sample and the average: what may start shedding when a queue shows.
    const busiest = Math.max(u, sample);
    const target = this.settings.targetUtilization;
    // A busy loop is not yet overload: on a shared host the utilisation also counts the time the
    // process waits for a CPU someone else has, and at 84% CPU that refused calls the proxy was
    // keeping up with (bench/README.md). Overload leaves datagrams waiting, so where the system
    // shows that queue, shedding needs it too; a short queue lets shedding fall back at once.
    // Read only when it can matter (a /proc read costs ~0.2 ms): a loop well below the target
    // in this sample and on average, and not shedding, decides nothing by it.
    if (busiest < target - BAND && this.rejectSteps === 0) {
      this.readLastPeriod = false;
      return;
    }
    const backlog = this.probe.backlogBytes?.() ?? null;
    // The previous period's queue, when that period read it, and whether it was past its limit.
    const previous = this.readLastPeriod ? this.lastBacklog : null;
    const previousPastLimit = previous !== null && previous > this.lastLimit;
    const limit = this.limitFor(reads);
    this.lastBacklog = backlog;
    this.readLastPeriod = true;
    this.lastLimit = limit;
    if (backlog === null) {
      // No queue to read: the smoothed utilisation decides alone, one step at a time.
      if (u > target) this.raise(1);
      else if (u < target - BAND) this.lower();
      return;
    }
    if (backlog > limit && busiest > target) {
      // Up to DRAINING_CEILING limits deep, a queue raises the share only when it was past the
      // limit a period ago too and has not shrunk since. One that just appeared is a stall (a
      // GC pause, the host's other processes): at 1,300 calls/s, which one process carries at
      // ~70% CPU, raising at once refused up to 7.8% of calls it was keeping up with
      // (bench/README.md). One that shrinks is a burst being worked off at the current share:
      // raising in each period of it had refused 2-30% of a rate near the maximum. Deeper,
      // the queue raises at once: that is half of a stock kernel's buffer, or some 60 ms of work,
      // and waiting is what let a cold start overflow its buffer.
      const deep = backlog > DRAINING_CEILING * limit;
      const growing = previousPastLimit && backlog >= previous;
      if (deep || growing) this.raise(Math.min(MAX_STEPS_PER_PERIOD, Math.floor(backlog / limit)));
    } else if (u < target - BAND || backlog < limit / 4)
      // Nothing waiting and a loop with room to spare: more is shed than needed (the fast rise
      // can overshoot), so the share comes down twice as fast.
      this.lower(backlog < limit / 16 && sample < target - BAND ? 2 : 1);
  }

  /**
   * The backlog limit (DRAIN_TARGET_MS) at the faster of this period's read rate and the smoothed
   * one: a stalled period is judged by the usual rate, and a rate that just rose (a surge after
   * an idle spell) by the new one, which the smoothed rate takes half a second to follow.
   */
  private limitFor(reads: number | null): number {
    if (reads === null || this.smoothedReads === null) return this.backlogLimit;
    const rate = Math.max(reads, this.smoothedReads);
    const drainable = (rate * KERNEL_BYTES_PER_DATAGRAM * DRAIN_TARGET_MS) / this.periodMs;
    return Math.min(this.backlogLimit, Math.max(MIN_BACKLOG_LIMIT_BYTES, Math.floor(drainable)));
  }

  private raise(steps: number): void {
    this.rejectSteps = Math.min(MAX_REJECT_STEPS, this.rejectSteps + steps);
  }

  private lower(steps = 1): void {
    this.rejectSteps = Math.max(0, this.rejectSteps - steps);
  }

  private get rejectFraction(): number {
    return this.rejectSteps / STEPS_PER_UNIT;
  }

  /** Whether a new call may start now. */
  admit(): boolean {
    if (this.rejectSteps === 0) return true;
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
    readonly backlogLimitBytes: number;
  } {
    return {
      rejectFraction: this.rejectFraction,
      rejected: this.rejectedCount,
      backlogBytes: this.lastBacklog,
      backlogLimitBytes: this.lastLimit,
    };
  }
}
