// A table whose entries all live the same time (a transaction's linger timer: Timer L/M, Timer
// J), expired by one coarse tick through the timer service instead of a Node timer each. The
// tick is lifetime/32 and armed only while the table holds entries: an entry lives at least its
// lifetime and at most one tick longer, which the RFC timers allow (they only need to outlast
// retransmissions). Insertion order is expiry order, so a tick stops at the first entry still due.
import type { TimerHandle, TimerService } from "./timer-service.js";

/** Ticks per lifetime (plus one for the tick an entry was born in). */
const TICKS = 32;

interface Slot<V> {
  readonly value: V;
  readonly expiresAtTick: number;
}

export class TickTable<V> {
  private readonly slots = new Map<string, Slot<V>>();
  private readonly tickMs: number;
  private tick = 0;
  private sweep: TimerHandle | null = null;

  constructor(
    private readonly timerService: TimerService,
    lifetimeMs: number,
    /** Told about each entry as it expires (a table keyed twice drops its other key). */
    private readonly onExpired?: (key: string, value: V) => void,
  ) {
    this.tickMs = Math.max(1, lifetimeMs / TICKS);
  }

  add(key: string, value: V): void {
    // A key added again moves to the back, so that insertion order stays expiry order.
    this.slots.delete(key);
    this.slots.set(key, { value, expiresAtTick: this.tick + TICKS + 1 });
    this.sweep ??= this.timerService.set(this.tickMs, () => this.onTick());
  }

  get(key: string): V | undefined {
    return this.slots.get(key)?.value;
  }

  has(key: string): boolean {
    return this.slots.has(key);
  }

  get size(): number {
    return this.slots.size;
  }

  clear(): void {
    this.slots.clear();
    this.timerService.clear(this.sweep);
    this.sweep = null;
  }

  private onTick(): void {
    this.sweep = null;
    this.tick++;
    for (const [key, slot] of this.slots) {
      if (slot.expiresAtTick > this.tick) break;
      this.slots.delete(key);
      this.onExpired?.(key, slot.value);
    }
    if (this.slots.size > 0) this.sweep = this.timerService.set(this.tickMs, () => this.onTick());
  }
}
