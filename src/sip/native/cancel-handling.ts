// §16.10: a CANCEL is answered 200 by the proxy itself and cancels the INVITE's response
// context; when the router has not decided yet nothing was forwarded and the edge answers the
// INVITE 487 on its own.
import type { CallEvent } from "../../calls/events.js";
import { createResponse, type SipRequest } from "../index.js";
import type { ServerTransactions } from "./server-transactions.js";
import type { Destination, MessageSource } from "./transport-types.js";

export interface CancelDeps {
  readonly servers: ServerTransactions;
  /** Whether the INVITE under this key was answered and is in the Accepted window. */
  readonly answered: (inviteKey: string) => boolean;
  readonly emit: (event: CallEvent) => void;
  readonly now: () => number;
}

export function handleCancel(
  deps: CancelDeps,
  r: SipRequest,
  source: MessageSource,
  replyTo: Destination,
  key: string,
  inviteKey: string,
): void {
  const { servers } = deps;
  const tx = servers.create(r, source, replyTo, key, null);
  const invite = servers.findInvite(inviteKey);
  if (invite === null && deps.answered(inviteKey)) {
    // §9.2: the INVITE's transaction still exists (Accepted, RFC 6026) and is answered: a 200
    // to the CANCEL, and nothing to cancel.
    servers.respond(tx, r, 200, "OK");
    return;
  }
  if (invite === null) {
    servers.respond(tx, r, 481, "Call/Transaction Does Not Exist");
    return;
  }
  servers.respond(tx, r, 200, "OK");
  if (invite.tx.finalSent) return;
  const { context } = invite;
  if (context.call !== null) {
    context.call.cancelByCaller();
  } else {
    context.cancelled = true;
    deps.emit({ type: "cancelled", callId: r.callId ?? "", at: deps.now() });
    if (context.request !== null)
      invite.tx.respond(487, createResponse(context.request, 487, "Request Terminated").serialize());
  }
}
