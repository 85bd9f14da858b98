// A TimerService driven by hand: `advance(ms)` fires every timer that falls due, in order, so
// RFC 3261 timers are tested without sleeping.
import type { TimerHandle, TimerService } from "../../src/sip/native/timer-service.js";

interface Pending {
  readonly id: number;
  readonly due: number;
  readonly callback: () => void;
}

export class ManualTimerService implements TimerService {
  private nowMs = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  set(delayMs: number, callback: () => void): TimerHandle {
    const id = this.nextId++;
    this.pending.set(id, { id, due: this.nowMs + delayMs, callback });
    return { id };
  }

  clear(handle: TimerHandle | null): void {
    if (handle !== null) this.pending.delete(handle.id);
  }

  get activeCount(): number {
    return this.pending.size;
  }

  get now(): number {
    return this.nowMs;
  }

  /** Moves time forward, firing due timers in due order (ties: arming order). */
  advance(ms: number): void {
    const until = this.nowMs + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.pending.values()) {
        if (
          p.due <= until &&
          (next === undefined || p.due < next.due || (p.due === next.due && p.id < next.id))
        )
          next = p;
      }
      if (next === undefined) break;
      this.pending.delete(next.id);
      this.nowMs = next.due;
      next.callback();
    }
    this.nowMs = until;
  }

  /** Due times (relative to now) of the armed timers, sorted; handy in assertions. */
  dueIn(): number[] {
    return [...this.pending.values()].map((p) => p.due - this.nowMs).sort((a, b) => a - b);
  }
}
