// Non-INVITE server transactions in Completed over UDP, kept small. A non-INVITE transaction
// stays 64*T1 after its final response (Timer J, RFC 3261 §17.2.2) only to answer a
// retransmitted request with that response again. Kept as the transaction itself, that is an
// object, its options, its TU's closures and a Node timer per BYE for 32 s (~9,000 of each at
// 300 calls/s). Here it is the key, the final response as text (kept-bytes.ts) and the channel
// back to the requester, expired by tick (tick-table.ts).
import type { Logger } from "../../util/logger.js";
import { type KeptBytes, keptToBytes } from "./kept-bytes.js";
import { TickTable } from "./tick-table.js";
import type { TimerService } from "./timer-service.js";
import type { TransactionChannel } from "./transaction-user.js";

interface CompletedRequest {
  readonly response: KeptBytes;
  readonly upstream: TransactionChannel;
}

export class CompletedRequests {
  private readonly table: TickTable<CompletedRequest>;

  constructor(
    timerService: TimerService,
    /** Timer J over UDP: 64*T1. */
    lifetimeMs: number,
    private readonly log: Logger,
  ) {
    this.table = new TickTable(timerService, lifetimeMs);
  }

  add(key: string, response: KeptBytes, upstream: TransactionChannel): void {
    this.table.add(key, { response, upstream });
  }

  /**
   * §17.2.2: a retransmission of a completed request gets the final response again. False when
   * `key` names no completed request.
   */
  answerRetransmission(key: string): boolean {
    const done = this.table.get(key);
    if (done === undefined) return false;
    done.upstream.send(keptToBytes(done.response), (err) =>
      this.log.debug({ err: err.message }, "cannot resend a final response"),
    );
    return true;
  }

  /** Entries (each stands for one server transaction in Completed). */
  get size(): number {
    return this.table.size;
  }

  clear(): void {
    this.table.clear();
  }
}
