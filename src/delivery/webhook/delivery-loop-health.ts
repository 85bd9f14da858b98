// How one carrier's webhook delivery loop is doing. A turn of the loop that throws — the CDR log,
// the delivery position or the dead-letter list unreachable (a Redis blip, a full disk) — is not
// the end of delivery: the loop waits (exponential backoff with jitter, bounded) and starts again
// from the saved position, so nothing is skipped and what was in flight is sent again
// (at-least-once). A single failure is routine; a loop that keeps failing is reported degraded
// on /readyz until a turn succeeds.
/** Consecutive failed turns after which the loop counts as degraded (not one passing blip). */
export const DEGRADED_AFTER_FAILURES = 3;

export interface DeliveryLoopStatus {
  readonly ok: boolean;
  /** What is wrong when not ok, in words an operator can act on. */
  readonly detail?: string;
}

export class DeliveryLoopHealth {
  private failures = 0;
  private failingSince = 0;
  private lastError = "";

  /** Records a failed turn. */
  failed(error: string, nowMs: number): void {
    if (this.failures === 0) this.failingSince = nowMs;
    this.failures++;
    this.lastError = error;
  }

  /** Records a turn that completed; returns how many failed turns it ends (0: none). */
  succeeded(): number {
    const ended = this.failures;
    this.failures = 0;
    this.lastError = "";
    return ended;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  status(nowMs: number): DeliveryLoopStatus {
    if (this.failures < DEGRADED_AFTER_FAILURES) return { ok: true };
    const seconds = Math.max(0, Math.round((nowMs - this.failingSince) / 1000));
    return {
      ok: false,
      detail: `failing for ${seconds} s (${this.failures} tries in a row): ${this.lastError}; retrying from the saved position`,
    };
  }
}
