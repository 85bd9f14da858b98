import { type KeptBytes, keepBytes, keptToBytes } from "./kept-bytes.js";
import type { TimerHandle, TimerService } from "./timer-service.js";
import type { TransactionTimers } from "./transaction-timers.js";
import type { ServerTransactionUser, Transaction, TransactionChannel } from "./transaction-user.js";

/** RFC 3261 §17.2.2 (Figure 8). */
export enum NonInviteServerState {
  Trying = "Trying",
  Proceeding = "Proceeding",
  Completed = "Completed",
  Terminated = "Terminated",
}

export interface NonInviteServerTransactionOptions {
  readonly key: string;
  readonly channel: TransactionChannel;
  readonly timers: TransactionTimers;
  readonly timerService: TimerService;
  readonly user: ServerTransactionUser;
  /**
   * Takes Completed over (completed-requests.ts answers retransmissions for Timer J); the
   * transaction then ends at once. Absent: the transaction runs Timer J itself.
   */
  readonly handOverCompleted?: (response: KeptBytes) => void;
}

export class NonInviteServerTransaction implements Transaction {
  readonly key: string;
  private state = NonInviteServerState.Trying;
  private lastResponse: Uint8Array | null = null;
  /** The final response while Timer J runs (kept-bytes.ts: not a slice of the Buffer pool). */
  private finalResponse: KeptBytes | null = null;
  private lastStatus = 0;
  private timerJ: TimerHandle | null = null;

  constructor(private readonly o: NonInviteServerTransactionOptions) {
    this.key = o.key;
  }

  get stateName(): string {
    return this.state;
  }

  get currentState(): NonInviteServerState {
    return this.state;
  }

  get status(): number {
    return this.lastStatus;
  }

  get finalSent(): boolean {
    return this.lastStatus >= 200;
  }

  /** A retransmission of the request arrived. */
  receiveRequest(): void {
    // §17.2.2: Trying absorbs; Proceeding and Completed answer with the last response.
    if (this.state === NonInviteServerState.Proceeding || this.state === NonInviteServerState.Completed) {
      if (this.finalResponse !== null) this.send(keptToBytes(this.finalResponse));
      else if (this.lastResponse !== null) this.send(this.lastResponse);
    }
  }

  respond(status: number, data: Uint8Array): boolean {
    if (this.state !== NonInviteServerState.Trying && this.state !== NonInviteServerState.Proceeding)
      return false;
    this.lastResponse = data;
    this.lastStatus = status;
    if (status < 200) {
      this.state = NonInviteServerState.Proceeding;
      this.send(data);
      return true;
    }
    this.state = NonInviteServerState.Completed;
    this.send(data);
    if (this.currentState !== NonInviteServerState.Completed) return true;
    // §17.2.2: Timer J (64*T1 over UDP, zero reliable) keeps answering retransmissions.
    const j = this.o.timers.j(this.o.channel.reliable);
    if (j === 0) {
      this.terminate();
      return true;
    }
    this.finalResponse = keepBytes(data);
    this.lastResponse = null;
    if (this.o.handOverCompleted !== undefined) {
      this.o.handOverCompleted(this.finalResponse);
      this.terminate();
      return true;
    }
    this.timerJ = this.o.timerService.set(j, () => this.terminate());
    return true;
  }

  terminate(): void {
    if (this.state === NonInviteServerState.Terminated) return;
    this.state = NonInviteServerState.Terminated;
    this.o.timerService.clear(this.timerJ);
    this.timerJ = null;
    this.lastResponse = null;
    this.finalResponse = null;
    this.o.user.onTerminated();
  }

  private send(data: Uint8Array): void {
    this.o.channel.send(data, (err) => {
      if (this.state === NonInviteServerState.Terminated) return;
      this.o.user.onTransportError?.(err);
      this.terminate();
    });
  }
}
