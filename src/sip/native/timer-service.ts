// The timers every transaction and proxy context arm go through this port, so that unit tests
// can drive RFC 3261 timers by hand (no sleeping) and so that leak tests can count what is armed.

/** An armed timer; pass it back to `clear`. */
export interface TimerHandle {
  readonly id: number;
}

export interface TimerService {
  /** Calls `callback` once after `delayMs` milliseconds. */
  set(delayMs: number, callback: () => void): TimerHandle;
  /** Disarms a timer; clearing a fired, cleared or null timer does nothing. */
  clear(handle: TimerHandle | null): void;
  /** Timers armed and not yet fired or cleared (exposed for leak tests and metrics). */
  readonly activeCount: number;
}

/** Node's event-loop timers, with a count of armed ones. */
export class SystemTimerService implements TimerService {
  private readonly armed = new Map<number, NodeJS.Timeout>();
  private nextId = 1;

  set(delayMs: number, callback: () => void): TimerHandle {
    const id = this.nextId++;
    const timeout = setTimeout(() => {
      this.armed.delete(id);
      callback();
    }, delayMs);
    this.armed.set(id, timeout);
    return { id };
  }

  clear(handle: TimerHandle | null): void {
    if (handle === null) return;
    const timeout = this.armed.get(handle.id);
    if (timeout === undefined) return;
    clearTimeout(timeout);
    this.armed.delete(handle.id);
  }

  get activeCount(): number {
    return this.armed.size;
  }

  /** Disarms everything (shutdown). */
  clearAll(): void {
    for (const t of this.armed.values()) clearTimeout(t);
    this.armed.clear();
  }
}
