// RFC 6026's Accepted window, kept small. After a 2xx the INVITE's server transaction lingers
// 64*T1 to absorb retransmitted INVITEs (Timer L), and the client transaction 64*T1 to pass 2xx
// retransmissions upstream (Timer M). Kept as they were -- a ProxyCall with its branch, both
// transactions, their option objects, closures and Node timers -- that window cost about 3 KB
// per answered call, most of the memory of a proxy holding calls (bench/README.md, held calls).
// Once a call is settled and nothing else of it is live, the edge keeps only an entry here: both
// keys, the channel back to the caller and the caller's From and To.
//
// Expiry is by a coarse tick (tick-table.ts: 64*T1 / 32, one second at the default T1): an entry
// lives at least 64*T1 and at most one tick longer, which RFC 6026 allows (the timers only need
// to outlast retransmissions).
import type { Logger } from "../../util/logger.js";
import type { SipResponse } from "../index.js";
import { type CallerView, upstreamCopy } from "./caller-view.js";
import { InviteClientState, type InviteClientTransaction } from "./invite-client-transaction.js";
import { InviteServerState, InviteServerTransaction } from "./invite-server-transaction.js";
import type { ClientTx } from "./proxy-context.js";
import type { ServerTransactions } from "./server-transactions.js";
import type { ServerTx } from "./server-tx.js";
import { TickTable } from "./tick-table.js";
import type { TimerService } from "./timer-service.js";
import type { TransactionLayer } from "./transaction-layer.js";
import type { TransactionChannel } from "./transaction-user.js";

export interface AcceptedInvite {
  /** §17.2.3 key of the INVITE server transaction (absorbs retransmitted INVITEs, CANCEL gets 200). */
  readonly serverKey: string;
  /** §17.1.3 key of the INVITE client transaction (2xx retransmissions from downstream). */
  readonly clientKey: string;
  /** The server transaction's channel back to the caller. */
  readonly upstream: TransactionChannel;
  /** The caller's From and To, restored on relayed 2xx (null when the router rewrote neither). */
  readonly callerView: CallerView | null;
}

export class AcceptedWindow {
  /** Entries by server key, expired by tick (tick-table.ts); the client key follows them out. */
  private readonly byServer: TickTable<AcceptedInvite>;
  private readonly byClient = new Map<string, AcceptedInvite>();

  constructor(
    timerService: TimerService,
    /** 64*T1: Timer L and Timer M (RFC 6026 §8.4, §8.7). */
    lifetimeMs: number,
    private readonly log: Logger,
  ) {
    this.byServer = new TickTable(timerService, lifetimeMs, (_, entry) => {
      if (this.byClient.get(entry.clientKey) === entry) this.byClient.delete(entry.clientKey);
    });
  }

  add(
    serverKey: string,
    clientKey: string,
    upstream: TransactionChannel,
    callerView: CallerView | null,
  ): void {
    const entry: AcceptedInvite = { serverKey, clientKey, upstream, callerView };
    this.byServer.add(serverKey, entry);
    this.byClient.set(clientKey, entry);
  }

  /** Whether `key` is an answered INVITE server transaction still in its window. */
  hasServer(key: string): boolean {
    return this.byServer.has(key);
  }

  /** The window entry whose client transaction `key` names. */
  findClient(key: string): AcceptedInvite | undefined {
    return this.byClient.get(key);
  }

  /** §16.7 step 5 / RFC 6026 §7.2: a 2xx retransmission goes upstream, our Via removed. */
  relay(entry: AcceptedInvite, response: SipResponse): void {
    entry.upstream.send(upstreamCopy(response, entry.callerView).serialize(), (err) =>
      this.log.debug({ err: err.message }, "cannot relay a 2xx retransmission"),
    );
  }

  /** Entries in the window (each stands for one server and one client transaction). */
  get size(): number {
    return this.byServer.size;
  }

  clear(): void {
    this.byServer.clear();
    this.byClient.clear();
  }
}

/** An answered call's two transactions, as the call hands them over. */
export interface AnsweredPair {
  readonly server: ServerTx;
  readonly client: InviteClientTransaction<SipResponse>;
  readonly callerView: CallerView | null;
}

/**
 * Moves an answered call's Accepted server and client transactions out of the transaction
 * tables into the window (their timers stopped, their TUs not told). False, and nothing
 * touched, when either is not in the Accepted state.
 */
export function retireIntoWindow(
  window: AcceptedWindow,
  servers: ServerTransactions,
  layer: TransactionLayer<ServerTx, ClientTx>,
  pair: AnsweredPair,
): boolean {
  const { server, client } = pair;
  if (!(server instanceof InviteServerTransaction) || server.currentState !== InviteServerState.Accepted)
    return false;
  if (client.currentState !== InviteClientState.Accepted) return false;
  const upstream = servers.retireInvite(server);
  client.retire();
  layer.removeClient(client);
  window.add(server.key, client.key, upstream, pair.callerView);
  return true;
}
