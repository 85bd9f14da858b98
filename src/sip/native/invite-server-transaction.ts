import type { TimerHandle, TimerService } from "./timer-service.js";
import type { TransactionTimers } from "./transaction-timers.js";
import type { ServerTransactionUser, Transaction, TransactionChannel } from "./transaction-user.js";

/** RFC 3261 §17.2.1 (Figure 7) with the Accepted state of RFC 6026 §7.1. */
export enum InviteServerState {
  Proceeding = "Proceeding",
  Completed = "Completed",
  Confirmed = "Confirmed",
  Accepted = "Accepted",
  Terminated = "Terminated",
}

export interface InviteServerTransactionOptions {
  readonly key: string;
  readonly channel: TransactionChannel;
  readonly timers: TransactionTimers;
  readonly timerService: TimerService;
  readonly user: ServerTransactionUser;
}

export class InviteServerTransaction implements Transaction {
  readonly key: string;
  private state = InviteServerState.Proceeding;
  private lastResponse: Uint8Array | null = null;
  private lastStatus = 0;
  private timerG: TimerHandle | null = null;
  private timerH: TimerHandle | null = null;
  private timerI: TimerHandle | null = null;
  private timerL: TimerHandle | null = null;
  private intervalG: number;

  constructor(private readonly o: InviteServerTransactionOptions) {
    this.key = o.key;
    this.intervalG = o.timers.g;
  }

  get stateName(): string {
    return this.state;
  }

  get currentState(): InviteServerState {
    return this.state;
  }

  /** The status of the last response sent (0 before any). */
  get status(): number {
    return this.lastStatus;
  }

  /** A final response has been sent (the caller's INVITE is settled). */
  get finalSent(): boolean {
    return this.lastStatus >= 200;
  }

  /** A retransmission of the INVITE arrived. */
  receiveInvite(): void {
    switch (this.state) {
      case InviteServerState.Proceeding:
        // §17.2.1: answer a retransmitted INVITE with the latest provisional.
        if (this.lastResponse !== null) this.send(this.lastResponse);
        return;
      case InviteServerState.Completed:
        // §17.2.1: ... and, once final, with the final response.
        if (this.lastResponse !== null) this.send(this.lastResponse);
        return;
      default:
        // Confirmed absorbs; RFC 6026 §7.1: Accepted absorbs retransmitted INVITEs too.
        return;
    }
  }

  /** An ACK matched this transaction (the ACK for a non-2xx final response). */
  receiveAck(): void {
    if (this.state !== InviteServerState.Completed) return; // Confirmed: absorbed.
    // §17.2.1: the ACK stops retransmissions; Timer I absorbs further ACKs.
    this.clearCompletedTimers();
    this.state = InviteServerState.Confirmed;
    // Confirmed only absorbs: the final response is not sent again.
    this.lastResponse = null;
    const i = this.o.timers.i(this.o.channel.reliable);
    if (i === 0) this.terminate();
    else this.timerI = this.o.timerService.set(i, () => this.terminate());
  }

  /** Sends a response from the TU. Returns false when the state does not allow it. */
  respond(status: number, data: Uint8Array): boolean {
    switch (this.state) {
      case InviteServerState.Proceeding:
        this.lastResponse = data;
        this.lastStatus = status;
        if (status < 200) {
          this.send(data);
        } else if (status < 300) {
          // RFC 6026 §7.1: a 2xx moves to Accepted (not Terminated) for Timer L = 64*T1, so that
          // retransmitted INVITEs are absorbed and further 2xx from downstream can still be sent.
          this.state = InviteServerState.Accepted;
          this.send(data);
          // Accepted never resends it (retransmitted INVITEs are absorbed): do not hold it for Timer L.
          this.lastResponse = null;
          if (this.currentState === InviteServerState.Accepted)
            this.timerL = this.o.timerService.set(this.o.timers.l, () => this.terminate());
        } else {
          // §17.2.1: a non-2xx final moves to Completed; Timer G retransmits it over UDP, Timer H
          // gives up waiting for the ACK.
          this.state = InviteServerState.Completed;
          this.send(data);
          if (this.currentState !== InviteServerState.Completed) return true;
          if (!this.o.channel.reliable)
            this.timerG = this.o.timerService.set(this.intervalG, () => this.onTimerG());
          this.timerH = this.o.timerService.set(this.o.timers.h, () => this.onTimerH());
        }
        return true;
      case InviteServerState.Accepted:
        // RFC 6026 §7.1: the TU may pass further 2xx (retransmissions, other forks) in Accepted.
        if (status >= 200 && status < 300) {
          this.send(data);
          return true;
        }
        return false;
      default:
        return false;
    }
  }

  /** The channel back to the caller (the Accepted window keeps it once this transaction retires). */
  get channel(): TransactionChannel {
    return this.o.channel;
  }

  /**
   * Hands the Accepted state over to the edge's compact window (accepted-window.ts): the timers
   * stop and the state is Terminated, without telling the TU, which is the one retiring it.
   */
  retire(): void {
    if (this.state !== InviteServerState.Accepted) return;
    this.state = InviteServerState.Terminated;
    this.o.timerService.clear(this.timerL);
    this.timerL = null;
  }

  terminate(): void {
    if (this.state === InviteServerState.Terminated) return;
    this.state = InviteServerState.Terminated;
    this.clearCompletedTimers();
    this.o.timerService.clear(this.timerI);
    this.o.timerService.clear(this.timerL);
    this.timerI = null;
    this.timerL = null;
    this.o.user.onTerminated();
  }

  private send(data: Uint8Array): void {
    this.o.channel.send(data, (err) => {
      // §17.2.4: a failure to send a response is reported to the TU and ends the transaction.
      if (this.state === InviteServerState.Terminated) return;
      this.o.user.onTransportError?.(err);
      this.terminate();
    });
  }

  private onTimerG(): void {
    this.timerG = null;
    if (this.state !== InviteServerState.Completed || this.lastResponse === null) return;
    this.send(this.lastResponse);
    this.intervalG = Math.min(2 * this.intervalG, this.o.timers.t2);
    if (this.currentState === InviteServerState.Completed)
      this.timerG = this.o.timerService.set(this.intervalG, () => this.onTimerG());
  }

  private onTimerH(): void {
    this.timerH = null;
    if (this.state !== InviteServerState.Completed) return;
    this.o.user.onTimeout?.();
    this.terminate();
  }

  private clearCompletedTimers(): void {
    this.o.timerService.clear(this.timerG);
    this.o.timerService.clear(this.timerH);
    this.timerG = null;
    this.timerH = null;
  }
}
