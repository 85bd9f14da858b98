import { type KeptBytes, keepBytes, keptToBytes } from "./kept-bytes.js";
import type { TimerHandle, TimerService } from "./timer-service.js";
import type { TransactionTimers } from "./transaction-timers.js";
import type {
  ClientTransactionUser,
  ResponseLike,
  Transaction,
  TransactionChannel,
} from "./transaction-user.js";

/** RFC 3261 §17.1.1 (Figure 5) with the Accepted state of RFC 6026 §7.2. */
export enum InviteClientState {
  Calling = "Calling",
  Proceeding = "Proceeding",
  Completed = "Completed",
  Accepted = "Accepted",
  Terminated = "Terminated",
}

export interface InviteClientTransactionOptions<R extends ResponseLike> {
  readonly key: string;
  readonly request: Uint8Array;
  readonly channel: TransactionChannel;
  readonly timers: TransactionTimers;
  readonly timerService: TimerService;
  readonly user: ClientTransactionUser<R>;
  /** Builds the hop-by-hop ACK for a non-2xx final response (§17.1.1.3). */
  readonly buildAck: (response: R) => Uint8Array;
}

export class InviteClientTransaction<R extends ResponseLike> implements Transaction {
  readonly key: string;
  private state = InviteClientState.Calling;
  private timerA: TimerHandle | null = null;
  private timerB: TimerHandle | null = null;
  private timerD: TimerHandle | null = null;
  private timerM: TimerHandle | null = null;
  private intervalA: number;
  /** The ACK of a non-2xx final, kept through Timer D as text (kept-bytes.ts). */
  private ack: KeptBytes | null = null;
  /** The INVITE bytes, kept only while they may be retransmitted (Calling). */
  private request: Uint8Array | null;

  private readonly o: Omit<InviteClientTransactionOptions<R>, "request">;

  constructor(options: InviteClientTransactionOptions<R>) {
    // The options without the INVITE's bytes: those are dropped once they cannot be resent.
    const { request, ...o } = options;
    this.o = o;
    this.key = o.key;
    this.intervalA = o.timers.a;
    this.request = request;
  }

  get stateName(): string {
    return this.state;
  }

  get currentState(): InviteClientState {
    return this.state;
  }

  /** Sends the INVITE and arms timers A (unreliable only) and B. */
  start(): void {
    if (this.request !== null) this.send(this.request);
    if (this.state !== InviteClientState.Calling) return;
    // §17.1.1.2: over an unreliable transport, retransmit after T1, doubling every time.
    if (!this.o.channel.reliable)
      this.timerA = this.o.timerService.set(this.intervalA, () => this.onTimerA());
    // §17.1.1.2: Timer B (64*T1) bounds the wait for any response at all.
    this.timerB = this.o.timerService.set(this.o.timers.b, () => this.onTimerB());
  }

  receiveResponse(response: R): void {
    const s = response.status;
    switch (this.state) {
      case InviteClientState.Calling:
      case InviteClientState.Proceeding:
        if (s < 200) {
          // A provisional stops retransmissions; the proxy's Timer C takes over from Timer B.
          this.clearCallingTimers();
          this.state = InviteClientState.Proceeding;
          this.o.user.onResponse(response);
        } else if (s < 300) {
          // RFC 6026 §7.2: a 2xx moves to Accepted so that 2xx retransmissions still reach the TU.
          this.clearCallingTimers();
          this.state = InviteClientState.Accepted;
          this.timerM = this.o.timerService.set(this.o.timers.m, () => this.terminate());
          this.o.user.onResponse(response);
        } else {
          // §17.1.1.2: a non-2xx final is ACKed by the transaction itself, hop by hop.
          this.clearCallingTimers();
          this.state = InviteClientState.Completed;
          const ack = this.o.buildAck(response);
          this.send(ack);
          this.o.user.onResponse(response);
          if (this.state !== InviteClientState.Completed) return;
          const d = this.o.timers.d(this.o.channel.reliable);
          if (d === 0) this.terminate();
          else {
            // Resent only if the final is retransmitted: 32 s of a Buffer would hold its pool slab.
            this.ack = keepBytes(ack);
            this.timerD = this.o.timerService.set(d, () => this.terminate());
          }
        }
        return;
      case InviteClientState.Completed:
        // §17.1.1.2: retransmitted finals are answered with the same ACK and not passed up.
        if (s >= 300 && this.ack !== null) this.send(keptToBytes(this.ack));
        return;
      case InviteClientState.Accepted:
        // RFC 6026 §7.2: 2xx retransmissions go to the TU (a proxy forwards them statelessly).
        if (s >= 200 && s < 300) this.o.user.onResponse(response);
        return;
      case InviteClientState.Terminated:
        return;
    }
  }

  /** Whether a CANCEL may be sent now (§9.1: only once a provisional response arrived). */
  get cancellable(): boolean {
    return this.state === InviteClientState.Proceeding;
  }

  /**
   * Hands the Accepted state over to the edge's compact window (accepted-window.ts): Timer M
   * stops and the state is Terminated, without telling the TU, which is the one retiring it.
   */
  retire(): void {
    if (this.state !== InviteClientState.Accepted) return;
    this.state = InviteClientState.Terminated;
    this.o.timerService.clear(this.timerM);
    this.timerM = null;
  }

  terminate(): void {
    if (this.state === InviteClientState.Terminated) return;
    this.state = InviteClientState.Terminated;
    this.clearCallingTimers();
    this.o.timerService.clear(this.timerD);
    this.o.timerService.clear(this.timerM);
    this.timerD = null;
    this.timerM = null;
    this.o.user.onTerminated();
  }

  private send(data: Uint8Array): void {
    this.o.channel.send(data, (err) => this.onTransportError(err));
  }

  private onTransportError(err: Error): void {
    // §17.1.4: a transport failure is reported to the TU and ends the transaction.
    if (this.state !== InviteClientState.Calling) return;
    this.clearCallingTimers();
    this.o.user.onTransportError(err);
    this.terminate();
  }

  private onTimerA(): void {
    this.timerA = null;
    if (this.state !== InviteClientState.Calling || this.request === null) return;
    this.send(this.request);
    this.intervalA *= 2;
    this.timerA = this.o.timerService.set(this.intervalA, () => this.onTimerA());
  }

  private onTimerB(): void {
    this.timerB = null;
    if (this.state !== InviteClientState.Calling) return;
    this.o.timerService.clear(this.timerA);
    this.timerA = null;
    this.o.user.onTimeout();
    this.terminate();
  }

  private clearCallingTimers(): void {
    this.request = null;
    this.o.timerService.clear(this.timerA);
    this.o.timerService.clear(this.timerB);
    this.timerA = null;
    this.timerB = null;
  }
}
