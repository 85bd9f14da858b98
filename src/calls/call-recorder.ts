// The call recorder (Kamailio's acc + dialog in one small object): it follows every routed
// INVITE through the edge's call events and writes exactly one CDR per call, through the CDR
// log, whichever way the call ends — hung up by either side, refused by the router, failed or
// busy at a gateway after any number of failovers, cancelled, timed out, or ended by the proxy
// (shutdown, or a dialog whose BYE never came within `maxCallDurationMs`).
//
// Quality reports join the CDR of their Call-ID. A report that arrives while the call is up (or
// on the BYE itself) goes into the CDR. The CDR is written the moment the call ends — the
// journal's promise of durability within ~50 ms of the end only holds if the recorder does not
// hold the record back — so a report that arrives after that (RFC 6035 session reports are
// typically sent just after the BYE) is journalled as a `QualityAmendment` that readers merge
// (src/calls/amend.ts), within `lateQualityWindowMs` of the end. CDRs stay immutable, and a
// crash between the end and a late report loses nothing that had already been reported.
//
// The recorder never throws on an event: an event it does not expect (a BYE for an unknown
// call, anything after the end) is logged and counted.
import { randomUUID } from "node:crypto";
import type { RouteTarget } from "../routing/decision.js";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import type { CallQuality, CallRecord, CdrLogEntry, EndedBy, QualityMetrics } from "./call-record.js";
import {
  type AttemptState,
  buildRecord,
  type CallEnd,
  type CallState,
  failedEndedBy,
  iso,
  newCallState,
} from "./call-state.js";
import type { CdrSink } from "./cdr-log.js";
import { CdrWriter, DEFAULT_RETRY, type RetryPolicy, type Scheduler } from "./cdr-writer.js";
import type { CallEvent, CallEventBus, RtpStatHeader } from "./events.js";
import { reasonPhrase } from "./reason-phrases.js";
import { parseRtpStatHeader } from "./rtp-stat.js";

export type QualityDirection = "caller" | "callee";

export interface CallRecorderSettings {
  /** Calls up longer than this are closed by the proxy (`endedBy: proxy`); null: no limit. */
  readonly maxCallDurationMs: number | null;
  /** How long after the end a quality report is still joined to the call (as an amendment). */
  readonly lateQualityWindowMs: number;
  /** How often the sweep runs (expired late windows, over-long calls). */
  readonly sweepIntervalMs: number;
}

export const DEFAULT_RECORDER_SETTINGS: CallRecorderSettings = {
  maxCallDurationMs: 4 * 3600_000,
  lateQualityWindowMs: 30_000,
  sweepIntervalMs: 1_000,
};

export interface CallRecorderOptions {
  readonly sink: CdrSink;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** UUID source for record ids. */
  readonly newId?: () => string;
  readonly settings?: Partial<CallRecorderSettings>;
  readonly retry?: RetryPolicy;
  /** Called when an entry is durable (metrics). */
  readonly onWritten?: (entry: CdrLogEntry, position: string) => void;
  /** Called when the sweep closes a call whose BYE never came (the edge forgets the dialog). */
  readonly onCallExpired?: (callId: string) => void;
}

export interface CallRecorderStats {
  readonly callsInProgress: number;
  readonly recordsBuilt: number;
  readonly amendmentsBuilt: number;
  readonly written: number;
  readonly appendFailures: number;
  readonly pendingWrites: number;
  /** Events that fit no call in progress (BYE for an unknown call, events after the end). */
  readonly unexpectedEvents: number;
  /** Quality reports joined to a call (in the CDR or as an amendment). */
  readonly qualityReports: number;
  /** Quality reports for a Call-ID the recorder does not know (or past the late window). */
  readonly qualityReportsUnmatched: number;
  /** Calls closed by the proxy's maximum call duration. */
  readonly callsExpired: number;
}

/** A call whose CDR is written, kept for the late-report window. */
interface FinishedCall {
  readonly cdrId: string;
  /** The record's inviteDateTime, carried by its amendments (time-filtered reads place them). */
  readonly inviteDateTime: string;
  readonly endedAt: number;
  /** The CDR is durable. */
  durable: boolean;
  /** The edge's answers held for this CDR (recorded()); null when none waits. */
  waiters: (() => void)[] | null;
}

/** A held answer's deadline (BYE_WAIT_FOR_CDR_MS after it was asked for), in asking order. */
interface HeldAnswer {
  readonly callId: string;
  readonly done: FinishedCall;
  readonly releaseAt: number;
}

/**
 * What an edge asks before it acknowledges the end of a call (the 200 to a BYE): the CDR of that
 * call is durable, or `maxWaitMs` passed (a failing log must not stop calls from ending).
 */
export interface CallRecordDurability {
  recorded(callId: string): Promise<void> | null;
}

/** How long the 200 to a BYE may wait for the call's CDR to be durable (the journal needs ~ms). */
export const BYE_WAIT_FOR_CDR_MS = 2_000;

export class CallRecorder implements CallRecordDurability {
  private readonly calls = new Map<string, CallState>();
  /** Insertion order = end order: the sweep pops expired ones from the front. */
  private readonly finished = new Map<string, FinishedCall>();
  private readonly writer: CdrWriter;
  private readonly settings: CallRecorderSettings;
  private readonly log: Logger;
  private readonly newId: () => string;
  private sweepTimer: { readonly id: number } | null = null;
  /**
   * Held answers by deadline: every deadline is the same span after its request, so asking order
   * is deadline order and one timer serves them all (instead of a timer per call).
   */
  private readonly held: HeldAnswer[] = [];
  private heldHead = 0;
  private heldTimer: { readonly id: number } | null = null;
  private detach: (() => void) | null = null;
  private closed = false;
  private counts = {
    recordsBuilt: 0,
    amendmentsBuilt: 0,
    unexpectedEvents: 0,
    qualityReports: 0,
    qualityReportsUnmatched: 0,
    callsExpired: 0,
  };

  constructor(private readonly options: CallRecorderOptions) {
    this.settings = { ...DEFAULT_RECORDER_SETTINGS, ...options.settings };
    this.log = options.logger.child({ component: "call-recorder" });
    this.newId = options.newId ?? randomUUID;
    this.writer = new CdrWriter(
      options.sink,
      options.scheduler,
      this.log,
      options.retry ?? DEFAULT_RETRY,
      options.onWritten,
    );
  }

  /** Subscribes to the edge's events and starts the sweep. */
  attach(bus: CallEventBus): void {
    this.detach = bus.subscribe((e) => this.onEvent(e));
    this.armSweep();
  }

  get stats(): CallRecorderStats {
    const w = this.writer.stats;
    return {
      callsInProgress: this.calls.size,
      ...this.counts,
      written: w.written,
      appendFailures: w.appendFailures,
      pendingWrites: w.pending,
    };
  }

  // ---- events --------------------------------------------------------------------------------

  onEvent(event: CallEvent): void {
    try {
      this.handle(event);
    } catch (err) {
      // A recorder bug must not break the edge's event fan-out or other listeners.
      this.log.error(
        { err: (err as Error).stack, event: event.type, callId: event.callId },
        "recorder failed",
      );
    }
  }

  private handle(event: CallEvent): void {
    if (this.closed) {
      this.unexpected(event, "event after the recorder closed");
      return;
    }
    if (event.type === "received") {
      if (event.method !== "INVITE") return;
      if (this.calls.has(event.callId)) {
        // Same Call-ID while a call is up (a spiral through the proxy): folded into the first.
        this.unexpected(event, "INVITE for a Call-ID already in progress");
        return;
      }
      this.calls.set(event.callId, newCallState(event.callId, event.call, event.at));
      return;
    }
    const call = this.calls.get(event.callId);
    if (call === undefined) {
      this.afterEnd(event);
      return;
    }
    switch (event.type) {
      case "attempt-sent":
        call.attempts.push({
          step: event.step,
          target: event.target,
          startedAt: event.at,
          end: null,
          finalSipCode: null,
          timer: null,
        });
        return;
      case "provisional":
        return;
      case "answered": {
        if (call.answered !== null) return;
        const attempt = this.attemptOf(call, event.step, event.target);
        if (attempt !== null) {
          attempt.end = "answered";
          attempt.finalSipCode = event.status;
        }
        call.answered = {
          at: event.at,
          status: event.status,
          reason: event.reason ?? reasonPhrase(event.status),
          attempt,
        };
        return;
      }
      case "attempt-failed": {
        const attempt = this.attemptOf(call, event.step, event.target);
        if (attempt === null) {
          this.unexpected(event, "attempt-failed for an attempt never sent");
          return;
        }
        attempt.end = event.cause;
        attempt.finalSipCode = event.status;
        return;
      }
      case "transaction-timeout": {
        const timedOut = [...call.attempts].reverse().find((a) => a.end === "timeout" && a.timer === null);
        if (timedOut !== undefined) timedOut.timer = event.timer;
        return;
      }
      case "rejected": {
        if (call.answered !== null) {
          this.unexpected(event, "rejected after answered");
          return;
        }
        // A digest challenge is one step of a call, not a call: the authenticated retry is.
        if (call.context === null && call.attempts.length === 0) {
          this.calls.delete(call.callId);
          return;
        }
        this.finish(call, {
          kind: "failed",
          at: event.at,
          status: event.status,
          reason: event.reason,
          endedBy: failedEndedBy(call, event.status),
        });
        return;
      }
      case "cancelled":
        if (call.answered !== null) {
          this.unexpected(event, "cancelled after answered");
          return;
        }
        this.finish(call, {
          kind: "failed",
          at: event.at,
          status: 487,
          reason: "Request Terminated",
          endedBy: "caller",
        });
        return;
      case "ended": {
        if (call.answered === null) {
          this.unexpected(event, "BYE for a call never answered");
          return;
        }
        for (const q of this.byeQuality(event.by, event.rtpStats)) call.quality[event.by] = q;
        this.finish(call, { kind: "hung-up", at: event.at, by: event.by });
        return;
      }
    }
  }

  /** An event for a call not in progress: trailing events of a finished call, or unknown. */
  private afterEnd(event: CallEvent): void {
    const done = this.finished.get(event.callId);
    if (done !== undefined) {
      // A fork's 487 after the 2xx or the CANCEL, a timer that fires after the end: normal.
      if (
        event.type === "attempt-failed" ||
        event.type === "transaction-timeout" ||
        event.type === "provisional"
      )
        return;
      if (event.type === "ended") {
        // The BYE finally came after the proxy closed the record (maximum call duration).
        this.log.info({ callId: event.callId, cdrId: done.cdrId }, "BYE after the record was closed");
        for (const q of this.byeQuality(event.by, event.rtpStats))
          this.amend(event.callId, done, event.by, q, event.at);
        this.counts.unexpectedEvents++;
        return;
      }
    }
    this.unexpected(event, done === undefined ? "event for an unknown call" : "event after the call ended");
  }

  private unexpected(event: CallEvent, why: string): void {
    this.counts.unexpectedEvents++;
    this.log.warn({ callId: event.callId, event: event.type, why }, "unexpected call event");
  }

  private attemptOf(call: CallState, step: number, target: RouteTarget): AttemptState | null {
    for (let i = call.attempts.length - 1; i >= 0; i--) {
      const a = call.attempts[i]!;
      if (a.step === step && (a.target === target || a.target.label === target.label) && a.end === null)
        return a;
    }
    return null;
  }

  private byeQuality(by: EndedBy, headers: readonly RtpStatHeader[] = []): QualityMetrics[] {
    const out: QualityMetrics[] = [];
    // When a BYE carries both headers, the first parseable one is the sender's report.
    for (const h of headers) {
      const q = parseRtpStatHeader(h.name, h.value, by);
      if (q !== null) {
        out.push(q);
        break;
      }
    }
    if (out.length > 0) this.counts.qualityReports++;
    return out;
  }

  // ---- quality reports -----------------------------------------------------------------------

  /**
   * A quality report for the call with this Call-ID (vq-rtcpxr PUBLISH). Returns whether it was
   * joined to a call (in progress, or ended within the late window).
   */
  addQuality(callId: string, direction: QualityDirection, metrics: QualityMetrics): boolean {
    const call = this.calls.get(callId);
    if (call !== undefined) {
      // Interval reports replace earlier ones: the latest covers the longest stretch.
      call.quality[direction] = metrics;
      this.counts.qualityReports++;
      return true;
    }
    const done = this.finished.get(callId);
    const now = this.options.clock.now();
    if (done !== undefined && now - done.endedAt <= this.settings.lateQualityWindowMs) {
      this.counts.qualityReports++;
      this.amend(callId, done, direction, metrics, now);
      return true;
    }
    this.counts.qualityReportsUnmatched++;
    this.log.info({ callId, direction }, "quality report for no known call: dropped");
    return false;
  }

  private amend(
    callId: string,
    done: FinishedCall,
    direction: QualityDirection,
    metrics: QualityMetrics,
    at: number,
  ) {
    const quality: CallQuality =
      direction === "caller" ? { caller: metrics, callee: null } : { caller: null, callee: metrics };
    this.counts.amendmentsBuilt++;
    this.writer.write({
      kind: "quality",
      amendment: {
        cdrId: done.cdrId,
        correlationId: callId,
        receivedDateTime: iso(at),
        inviteDateTime: done.inviteDateTime,
        quality,
      },
    });
  }

  // ---- ending calls --------------------------------------------------------------------------

  private finish(call: CallState, end: CallEnd): CallRecord {
    this.calls.delete(call.callId);
    const record = buildRecord(call, end, this.newId());
    this.counts.recordsBuilt++;
    this.finished.delete(call.callId);
    const done: FinishedCall = {
      cdrId: record.id,
      inviteDateTime: record.inviteDateTime,
      endedAt: end.at,
      durable: false,
      waiters: null,
    };
    this.finished.set(call.callId, done);
    this.writer.write({ kind: "cdr", record }, () => {
      done.durable = true;
      this.releaseHeld(done);
    });
    return record;
  }

  /**
   * For the edge: resolves when the CDR of a call that just ended is durable (at most
   * BYE_WAIT_FOR_CDR_MS); null when no such record is pending. Holding the 200 to the BYE until
   * then means that once the party who hung up has its answer, the record survives a crash
   * (carrier-api.md "Durable delivery": a crash after the call ended must not lose it).
   */
  recorded(callId: string): Promise<void> | null {
    const done = this.finished.get(callId);
    if (done === undefined || done.durable) return null;
    return new Promise<void>((resolve) => {
      if (done.waiters === null) done.waiters = [resolve];
      else done.waiters.push(resolve);
      this.held.push({ callId, done, releaseAt: this.options.clock.monotonic() + BYE_WAIT_FOR_CDR_MS });
      if (this.heldTimer === null) this.armHeld();
    });
  }

  private releaseHeld(done: FinishedCall): void {
    const waiters = done.waiters;
    if (waiters === null) return;
    done.waiters = null;
    for (const resolve of waiters) resolve();
  }

  /**
   * Releases the held answers due by `upTo` (a failing log must not stop calls ending). The timer
   * that fired says the front one is due; its deadline, not a fresh clock reading, bounds what
   * else is.
   */
  private expireHeld(upTo: number): void {
    while (this.heldHead < this.held.length) {
      const h = this.held[this.heldHead] as HeldAnswer;
      if (h.releaseAt > upTo) break;
      this.heldHead++;
      if (h.done.waiters !== null) {
        this.log.warn({ callId: h.callId, cdrId: h.done.cdrId }, "BYE answered before its CDR was durable");
        this.releaseHeld(h.done);
      }
    }
    // Compact once the consumed front dominates, so the array does not grow without bound.
    if (this.heldHead > 1024 && this.heldHead * 2 > this.held.length) {
      this.held.splice(0, this.heldHead);
      this.heldHead = 0;
    }
  }

  /** `now`: the deadline that just fired when re-arming (a timer fires at its deadline). */
  private armHeld(now = this.options.clock.monotonic()): void {
    const next = this.held[this.heldHead];
    if (next === undefined) {
      this.held.length = 0;
      this.heldHead = 0;
      return;
    }
    const delay = Math.max(0, next.releaseAt - now);
    this.heldTimer = this.options.scheduler.set(delay, () => {
      this.heldTimer = null;
      this.expireHeld(next.releaseAt);
      this.armHeld(next.releaseAt);
    });
  }

  /**
   * Expires late-report windows and closes calls older than the maximum call duration (counted
   * from the answer, or from the INVITE for a call that never got a final answer): a BYE that
   * never came must not keep a call — and its capacity and drain — open forever.
   */
  sweep(): void {
    const now = this.options.clock.now();
    for (const [callId, done] of this.finished) {
      if (now - done.endedAt <= this.settings.lateQualityWindowMs) break;
      this.finished.delete(callId);
    }
    const max = this.settings.maxCallDurationMs;
    if (max === null) return;
    for (const call of [...this.calls.values()]) {
      const since = call.answered?.at ?? call.inviteAt;
      if (now - since < max) continue;
      this.counts.callsExpired++;
      this.log.warn(
        { callId: call.callId, answered: call.answered !== null, maxCallDurationMs: max },
        "call exceeded the maximum call duration: closed by the proxy",
      );
      this.endByProxy(call, now, 408, "Request Timeout");
      this.options.onCallExpired?.(call.callId);
    }
  }

  private endByProxy(call: CallState, at: number, status: number, reason: string): void {
    if (call.answered !== null) this.finish(call, { kind: "hung-up", at, by: "proxy" });
    else this.finish(call, { kind: "failed", at, status, reason, endedBy: "proxy" });
  }

  private armSweep(): void {
    if (this.closed) return;
    this.sweepTimer = this.options.scheduler.set(this.settings.sweepIntervalMs, () => {
      this.sweepTimer = null;
      this.sweep();
      this.armSweep();
    });
  }

  /**
   * Shutdown: every call still up is closed by the proxy (the edge is stopping), and every
   * record is made durable before this resolves — or, past `timeoutMs`, logged in full.
   * Resolves true when everything was written.
   */
  async close(timeoutMs: number): Promise<boolean> {
    if (this.closed) return this.writer.flush(0);
    const now = this.options.clock.now();
    for (const call of [...this.calls.values()]) this.endByProxy(call, now, 503, "Service Unavailable");
    this.closed = true;
    this.detach?.();
    this.options.scheduler.clear(this.sweepTimer);
    this.sweepTimer = null;
    const clean = await this.writer.flush(timeoutMs);
    if (!clean) this.writer.abandon();
    // Nothing is held past shutdown: every deadline counts as passed.
    this.options.scheduler.clear(this.heldTimer);
    this.heldTimer = null;
    this.expireHeld(Number.POSITIVE_INFINITY);
    return clean;
  }
}
