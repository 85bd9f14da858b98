// RFC 3261 §17 timer values (Table 4), derived from T1/T2/T4, plus the RFC 6026 timers L and M.

export interface TimerBase {
  /** T1: round-trip time estimate (default 500 ms). */
  readonly t1Ms: number;
  /** T2: the longest retransmit interval for non-INVITE requests and INVITE responses (default 4 s). */
  readonly t2Ms: number;
  /** T4: the longest time a message stays in the network (default 5 s). */
  readonly t4Ms: number;
}

export const defaultTimerBase: TimerBase = { t1Ms: 500, t2Ms: 4_000, t4Ms: 5_000 };

export class TransactionTimers {
  constructor(readonly base: TimerBase = defaultTimerBase) {}

  /** Timer A: first INVITE retransmit interval, T1, doubled each time (§17.1.1.2). */
  get a(): number {
    return this.base.t1Ms;
  }
  /** Timer B: INVITE transaction timeout, 64*T1 (§17.1.1.2). */
  get b(): number {
    return 64 * this.base.t1Ms;
  }
  /**
   * Timer D: how long a client waits in Completed for final-response retransmissions; RFC 3261
   * asks for more than 32 s over UDP and zero over reliable transports. We use 64*T1, which is
   * 32 s at the default T1 and shrinks with T1 on test rigs.
   */
  d(reliable: boolean): number {
    return reliable ? 0 : 64 * this.base.t1Ms;
  }
  /** Timer E: first non-INVITE retransmit interval, T1, doubling up to T2 (§17.1.2.2). */
  get e(): number {
    return this.base.t1Ms;
  }
  /** Timer F: non-INVITE transaction timeout, 64*T1 (§17.1.2.2). */
  get f(): number {
    return 64 * this.base.t1Ms;
  }
  /** Timer G: first final-response retransmit interval of an INVITE server, T1, doubling up to T2 (§17.2.1). */
  get g(): number {
    return this.base.t1Ms;
  }
  /** Timer H: how long an INVITE server waits for the ACK, 64*T1 (§17.2.1). */
  get h(): number {
    return 64 * this.base.t1Ms;
  }
  /** Timer I: how long an INVITE server absorbs ACK retransmissions, T4 over UDP, 0 reliable (§17.2.1). */
  i(reliable: boolean): number {
    return reliable ? 0 : this.base.t4Ms;
  }
  /** Timer J: how long a non-INVITE server absorbs request retransmissions, 64*T1 over UDP, 0 reliable (§17.2.2). */
  j(reliable: boolean): number {
    return reliable ? 0 : 64 * this.base.t1Ms;
  }
  /** Timer K: how long a non-INVITE client absorbs response retransmissions, T4 over UDP, 0 reliable (§17.1.2.2). */
  k(reliable: boolean): number {
    return reliable ? 0 : this.base.t4Ms;
  }
  /** Timer L (RFC 6026 §8.7): how long an INVITE server stays Accepted after a 2xx, 64*T1. */
  get l(): number {
    return 64 * this.base.t1Ms;
  }
  /** Timer M (RFC 6026 §8.4): how long an INVITE client stays Accepted for 2xx retransmissions, 64*T1. */
  get m(): number {
    return 64 * this.base.t1Ms;
  }
  get t2(): number {
    return this.base.t2Ms;
  }
}
