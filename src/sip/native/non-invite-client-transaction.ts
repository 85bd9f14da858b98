import type { TimerHandle, TimerService } from "./timer-service.js";
import type { TransactionTimers } from "./transaction-timers.js";
import type {
  ClientTransactionUser,
  ResponseLike,
  Transaction,
  TransactionChannel,
} from "./transaction-user.js";

/** RFC 3261 §17.1.2 (Figure 6). */
export enum NonInviteClientState {
  Trying = "Trying",
  Proceeding = "Proceeding",
  Completed = "Completed",
  Terminated = "Terminated",
}

export interface NonInviteClientTransactionOptions<R extends ResponseLike> {
  readonly key: string;
  readonly request: Uint8Array;
  readonly channel: TransactionChannel;
  readonly timers: TransactionTimers;
  readonly timerService: TimerService;
  readonly user: ClientTransactionUser<R>;
  /**
   * The owner drops responses that match no transaction (the proxy's edge does, unless they are
   * 2xx to an INVITE), which is all Timer K's Completed state does with them: the transaction
   * ends at its final response instead of lingering T4 (5 s) with its request and its TU.
   */
  readonly endAtFinal?: boolean;
}

export class NonInviteClientTransaction<R extends ResponseLike> implements Transaction {
  readonly key: string;
  private state = NonInviteClientState.Trying;
  private timerE: TimerHandle | null = null;
  private timerF: TimerHandle | null = null;
  private timerK: TimerHandle | null = null;
  private intervalE: number;
  /** The request while it may be retransmitted; let go in Completed (Timer K only absorbs). */
  private request: Uint8Array | null;

  private readonly o: Omit<NonInviteClientTransactionOptions<R>, "request">;

  constructor(options: NonInviteClientTransactionOptions<R>) {
    // The options without the request, so that letting go of `request` lets go of the bytes.
    const { request, ...rest } = options;
    this.o = rest;
    this.key = options.key;
    this.intervalE = options.timers.e;
    this.request = request;
  }

  get stateName(): string {
    return this.state;
  }

  get currentState(): NonInviteClientState {
    return this.state;
  }

  start(): void {
    this.send();
    if (this.state !== NonInviteClientState.Trying) return;
    // §17.1.2.2: Timer E retransmits over unreliable transports; Timer F (64*T1) always bounds the wait.
    if (!this.o.channel.reliable)
      this.timerE = this.o.timerService.set(this.intervalE, () => this.onTimerE());
    this.timerF = this.o.timerService.set(this.o.timers.f, () => this.onTimerF());
  }

  receiveResponse(response: R): void {
    if (this.state !== NonInviteClientState.Trying && this.state !== NonInviteClientState.Proceeding) {
      // §17.1.2.2: in Completed, retransmitted responses are absorbed.
      return;
    }
    if (response.status < 200) {
      this.state = NonInviteClientState.Proceeding;
      this.o.user.onResponse(response);
      return;
    }
    this.o.timerService.clear(this.timerE);
    this.o.timerService.clear(this.timerF);
    this.timerE = null;
    this.timerF = null;
    this.state = NonInviteClientState.Completed;
    this.request = null;
    this.o.user.onResponse(response);
    if (this.state !== NonInviteClientState.Completed) return;
    // §17.1.2.2: Timer K (T4 over UDP, zero over reliable transports) absorbs stragglers.
    const k = this.o.endAtFinal === true ? 0 : this.o.timers.k(this.o.channel.reliable);
    if (k === 0) this.terminate();
    else this.timerK = this.o.timerService.set(k, () => this.terminate());
  }

  terminate(): void {
    if (this.state === NonInviteClientState.Terminated) return;
    this.state = NonInviteClientState.Terminated;
    this.o.timerService.clear(this.timerE);
    this.o.timerService.clear(this.timerF);
    this.o.timerService.clear(this.timerK);
    this.timerE = null;
    this.timerF = null;
    this.timerK = null;
    this.request = null;
    this.o.user.onTerminated();
  }

  private send(): void {
    if (this.request === null) return;
    this.o.channel.send(this.request, (err) => this.onTransportError(err));
  }

  private onTransportError(err: Error): void {
    if (this.state !== NonInviteClientState.Trying && this.state !== NonInviteClientState.Proceeding) return;
    this.o.user.onTransportError(err);
    this.terminate();
  }

  private onTimerE(): void {
    this.timerE = null;
    if (this.state === NonInviteClientState.Trying) {
      // §17.1.2.2: in Trying the interval doubles up to T2 ...
      this.intervalE = Math.min(2 * this.intervalE, this.o.timers.t2);
    } else if (this.state === NonInviteClientState.Proceeding) {
      // ... and once a provisional arrived, retransmissions continue every T2.
      this.intervalE = this.o.timers.t2;
    } else {
      return;
    }
    this.send();
    if (this.currentState === NonInviteClientState.Terminated) return;
    this.timerE = this.o.timerService.set(this.intervalE, () => this.onTimerE());
  }

  private onTimerF(): void {
    this.timerF = null;
    if (this.state !== NonInviteClientState.Trying && this.state !== NonInviteClientState.Proceeding) return;
    this.o.timerService.clear(this.timerE);
    this.timerE = null;
    this.o.user.onTimeout();
    this.terminate();
  }
}
