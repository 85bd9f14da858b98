// Call counters from the edge's call events: calls started and finished by direction and
// outcome, answered-call durations (ACD), attempts and failures per gateway, calls in progress.
// Each call is counted once, at its first final outcome; an unexpected sequence (events after
// the end, an unknown Call-ID) counts nothing rather than throwing.
import type { Counter, Gauge, Histogram } from "prom-client";
import type { CallEvent } from "../calls/events.js";
import { outcomeOfFinalStatus } from "./call-outcome.js";

interface CallState {
  readonly direction: string;
  answeredAt: number | null;
  counted: boolean;
}

export interface CallMetricInstruments {
  readonly started: Counter<"direction">;
  readonly finished: Counter<"direction" | "outcome">;
  readonly duration: Histogram<"direction">;
  readonly attempts: Counter<"gateway">;
  readonly failures: Counter<"gateway" | "cause">;
  readonly inProgress: Gauge<"direction">;
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
        this.calls.set(event.callId, { direction, answeredAt: null, counted: false });
        if (this.calls.size > MAX_TRACKED_CALLS) {
          const oldest = this.calls.keys().next().value;
          if (oldest !== undefined) this.calls.delete(oldest);
        }
        this.m.started.inc({ direction });
        return;
      }
      case "attempt-sent":
        if (event.target.gateway !== null) this.m.attempts.inc({ gateway: event.target.gateway });
        return;
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
      case "rejected":
        this.finish(event.callId, outcomeOfFinalStatus(event.status));
        return;
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
    if (!call.counted) this.m.finished.inc({ direction: call.direction, outcome });
  }

  /** Sets the in-progress gauge (at scrape time). */
  collectInProgress(): void {
    const byDirection = new Map<string, number>();
    for (const c of this.calls.values())
      byDirection.set(c.direction, (byDirection.get(c.direction) ?? 0) + 1);
    this.m.inProgress.reset();
    for (const [direction, n] of byDirection) this.m.inProgress.set({ direction }, n);
  }
}
