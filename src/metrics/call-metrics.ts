// Call counters from the edge's call events: calls started and finished by direction and
// outcome, answered-call durations (ACD), attempts and failures per gateway, calls in progress.
// Each call is counted once, at its first final outcome; an unexpected sequence (events after
// the end, an unknown Call-ID) counts nothing rather than throwing.
//
// What is a call follows the call recorder: an INVITE the router refuses without a call context
// is either a digest challenge (401/407: one step of a call, the authenticated retry is the
// call) or an unidentified caller (scanners); neither counts as a call — ASR over scanner
// traffic would mean nothing — and unidentified refusals have their own counter.
import type { Counter, Gauge, Histogram } from "prom-client";
import type { CallEvent } from "../calls/events.js";
import { outcomeOfFinalStatus, statusClass } from "./call-outcome.js";

interface CallState {
  readonly direction: string;
  answeredAt: number | null;
  counted: boolean;
  /** Received without a call context: counted as started only once it is forwarded. */
  started: boolean;
}

export interface CallMetricInstruments {
  readonly started: Counter<"direction">;
  readonly finished: Counter<"direction" | "outcome">;
  readonly duration: Histogram<"direction">;
  readonly attempts: Counter<"gateway">;
  readonly failures: Counter<"gateway" | "cause">;
  readonly inProgress: Gauge<"direction">;
  readonly unidentifiedRefused: Counter<"status_class">;
}

/** Calls whose BYE never came are forgotten beyond this many (the oldest first). */
const MAX_TRACKED_CALLS = 100_000;

export class CallMetrics {
  private readonly calls = new Map<string, CallState>();

  constructor(private readonly m: CallMetricInstruments) {}

  onEvent(event: CallEvent): void {
    switch (event.type) {
      case "received": {
        if (event.method !== "INVITE" || this.calls.has(event.callId)) return;
        const direction = event.call?.direction ?? "unknown";
        const started = event.call !== null;
        this.calls.set(event.callId, { direction, answeredAt: null, counted: false, started });
        if (this.calls.size > MAX_TRACKED_CALLS) {
          const oldest = this.calls.keys().next().value;
          if (oldest !== undefined) this.calls.delete(oldest);
        }
        if (started) this.m.started.inc({ direction });
        return;
      }
      case "attempt-sent": {
        const call = this.calls.get(event.callId);
        if (call !== undefined && !call.started) {
          call.started = true;
          this.m.started.inc({ direction: call.direction });
        }
        if (event.target.gateway !== null) this.m.attempts.inc({ gateway: event.target.gateway });
        return;
      }
      case "attempt-failed":
        if (event.target.gateway !== null)
          this.m.failures.inc({ gateway: event.target.gateway, cause: event.cause });
        return;
      case "answered": {
        const call = this.calls.get(event.callId);
        if (call === undefined || call.counted) return;
        call.counted = true;
        call.answeredAt = event.at;
        this.m.finished.inc({ direction: call.direction, outcome: "answered" });
        return;
      }
      case "rejected": {
        const call = this.calls.get(event.callId);
        if (call !== undefined && !call.started) {
          this.calls.delete(event.callId);
          if (event.status !== 401 && event.status !== 407)
            this.m.unidentifiedRefused.inc({ status_class: statusClass(event.status) });
          return;
        }
        this.finish(event.callId, outcomeOfFinalStatus(event.status));
        return;
      }
      case "cancelled":
        this.finish(event.callId, "cancelled");
        return;
      case "ended": {
        const call = this.calls.get(event.callId);
        if (call === undefined) return;
        this.calls.delete(event.callId);
        if (call.answeredAt !== null)
          this.m.duration.observe(
            { direction: call.direction },
            Math.max(0, event.at - call.answeredAt) / 1000,
          );
        return;
      }
      default:
        return;
    }
  }

  private finish(callId: string, outcome: string): void {
    const call = this.calls.get(callId);
    if (call === undefined) return;
    this.calls.delete(callId);
    if (!call.started) return;
    if (!call.counted) this.m.finished.inc({ direction: call.direction, outcome });
  }

  /** Sets the in-progress gauge (at scrape time). */
  collectInProgress(): void {
    const byDirection = new Map<string, number>();
    for (const c of this.calls.values())
      if (c.started) byDirection.set(c.direction, (byDirection.get(c.direction) ?? 0) + 1);
    this.m.inProgress.reset();
    for (const [direction, n] of byDirection) this.m.inProgress.set({ direction }, n);
  }
}
