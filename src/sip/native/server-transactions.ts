// Server transactions (§17.2) as the edge creates them: bound to the channel back to the
// request's source, registered in the transaction table, and for INVITEs tied to the context
// the router and CANCEL handling work on. Responses are built here so a bad router header
// becomes a 500 rather than an exception.
import type { Logger } from "../../util/logger.js";
import { ownCopy } from "../../util/own-copy.js";
import { createResponse, type SipRequest, type SipResponse } from "../index.js";
import type { CompletedRequests } from "./completed-requests.js";
import { InviteServerTransaction } from "./invite-server-transaction.js";
import { NonInviteServerTransaction } from "./non-invite-server-transaction.js";
import type { ProxyCall } from "./proxy-call.js";
import type { ClientTx } from "./proxy-context.js";
import type { ServerTx } from "./server-tx.js";
import type { TimerService } from "./timer-service.js";
import type { TransactionLayer } from "./transaction-layer.js";
import type { TransactionTimers } from "./transaction-timers.js";
import type { TransactionChannel } from "./transaction-user.js";
import type { TransportLayer } from "./transport-layer.js";
import type { Destination, MessageSource } from "./transport-types.js";

/** What an INVITE server transaction is attached to while the router decides and after. */
export interface InviteContext {
  /** The INVITE until a call takes it over (then the call holds it, and null here). */
  request: SipRequest | null;
  call: ProxyCall | null;
  cancelled: boolean;
}

export interface ServerTransactionDeps {
  readonly layer: TransactionLayer<ServerTx, ClientTx>;
  readonly transport: TransportLayer;
  readonly timers: TransactionTimers;
  readonly timerService: TimerService;
  readonly log: Logger;
  /** A server transaction terminated (the edge may have become idle). */
  readonly onTerminated: () => void;
  /** Where non-INVITE transactions spend Timer J (completed-requests.ts). */
  readonly completed: CompletedRequests;
}

export class ServerTransactions {
  private readonly inviteContexts = new Map<string, InviteContext>();

  constructor(private readonly deps: ServerTransactionDeps) {}

  find(key: string): ServerTx | undefined {
    return this.deps.layer.findServer(key);
  }

  /** The INVITE transaction under `inviteKey` with its context, when both still exist. */
  findInvite(inviteKey: string): { tx: InviteServerTransaction; context: InviteContext } | null {
    const tx = this.deps.layer.findServer(inviteKey);
    const context = this.inviteContexts.get(inviteKey);
    if (!(tx instanceof InviteServerTransaction) || context === undefined) return null;
    return { tx, context };
  }

  create(
    r: SipRequest,
    source: MessageSource,
    replyTo: Destination,
    key: string,
    context: InviteContext | null,
  ): ServerTx {
    // The key is built from the request's Via (substrings of the message text): stored as it
    // is, it would keep the whole message alive as long as the transaction (64*T1 after a 2xx).
    key = ownCopy(key);
    const { layer, transport, timers, timerService, log } = this.deps;
    const channel = replyChannel(transport, source, replyTo);
    // The closures below must not refer to `r`: they live as long as the transaction (64*T1
    // after a 2xx) and would keep the parsed request alive.
    const isInvite = r.method === "INVITE";
    const user = {
      onTerminated: () => {
        layer.removeServer(tx);
        if (isInvite) this.inviteContexts.delete(key);
        context?.call?.serverTerminated();
        this.deps.onTerminated();
      },
      onTransportError: (err: Error) => log.debug({ err: err.message }, "cannot send a response"),
    };
    const tx: ServerTx =
      r.method === "INVITE"
        ? new InviteServerTransaction({ key, channel, timers, timerService, user })
        : new NonInviteServerTransaction({
            key,
            channel,
            timers,
            timerService,
            user,
            handOverCompleted: (response) => this.deps.completed.add(key, response, channel),
          });
    layer.addServer(tx);
    if (r.method === "INVITE" && context !== null) this.inviteContexts.set(key, context);
    return tx;
  }

  /**
   * Takes an answered INVITE's server transaction out of the tables for the Accepted window
   * (accepted-window.ts); returns its channel back to the caller.
   */
  retireInvite(tx: InviteServerTransaction): TransactionChannel {
    tx.retire();
    this.deps.layer.removeServer(tx);
    this.inviteContexts.delete(tx.key);
    return tx.channel;
  }

  respond(
    tx: ServerTx,
    r: SipRequest,
    status: number,
    reason: string,
    headers: readonly (readonly [string, string])[] = [],
  ): void {
    let response: SipResponse;
    try {
      response = createResponse(r, status, reason, { headers });
    } catch (err) {
      this.deps.log.error(
        { err: (err as Error).message, status },
        "cannot build a response (router headers?)",
      );
      response = createResponse(r, 500, "Server Internal Error");
      status = 500;
    }
    tx.respond(status, response.serialize());
  }

  clear(): void {
    this.inviteContexts.clear();
  }
}

/**
 * The channel back to a request's source, made in a scope of its own: V8 gives closures made in
 * one function a shared context, and the Accepted window keeps this channel after the
 * transaction and its call are gone (a closure beside it would keep them alive).
 */
function replyChannel(
  transport: TransportLayer,
  source: MessageSource,
  replyTo: Destination,
): TransactionChannel {
  return {
    reliable: source.transport !== "udp",
    send: (data, onError) => transport.reply(source, replyTo, data, onError),
  };
}
