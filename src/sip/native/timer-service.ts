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

/** One armed Node timer, linked into its service's list of armed timers. */
class ArmedTimer implements TimerHandle {
  prev: ArmedTimer | null = null;
  next: ArmedTimer | null = null;
  timeout: NodeJS.Timeout | null = null;
  constructor(readonly id: number) {}
}

/**
 * Node's event-loop timers, with a count of armed ones. The armed timers are an intrusive
 * doubly-linked list rather than a Map: tens of thousands are armed under load (Timer J and K
 * for every BYE), and a Map that size rehashes in one go as it fills with deleted entries --
 * a pause of milliseconds in the middle of the hot path (a CPU profile showed it).
 */
export class SystemTimerService implements TimerService {
  private head: ArmedTimer | null = null;
  private count = 0;
  private nextId = 1;

  set(delayMs: number, callback: () => void): TimerHandle {
    const armed = new ArmedTimer(this.nextId++);
    armed.timeout = setTimeout(() => {
      this.unlink(armed);
      callback();
    }, delayMs);
    armed.next = this.head;
    if (this.head !== null) this.head.prev = armed;
    this.head = armed;
    this.count++;
    return armed;
  }

  clear(handle: TimerHandle | null): void {
    if (!(handle instanceof ArmedTimer) || handle.timeout === null) return;
    clearTimeout(handle.timeout);
    this.unlink(handle);
  }

  get activeCount(): number {
    return this.count;
  }

  /** Disarms everything (shutdown). */
  clearAll(): void {
    let t = this.head;
    while (t !== null) {
      const next: ArmedTimer | null = t.next;
      if (t.timeout !== null) clearTimeout(t.timeout);
      t.timeout = null;
      t.prev = null;
      t.next = null;
      t = next;
    }
    this.head = null;
    this.count = 0;
  }

  /** Takes a fired or cleared timer out of the list (once). */
  private unlink(t: ArmedTimer): void {
    if (t.timeout === null) return;
    t.timeout = null;
    if (t.prev !== null) t.prev.next = t.next;
    else if (this.head === t) this.head = t.next;
    if (t.next !== null) t.next.prev = t.prev;
    t.prev = null;
    t.next = null;
    this.count--;
  }
}
