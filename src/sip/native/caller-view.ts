// The caller's own From and To, restored on the responses it gets. The router may rewrite From
// (the caller's number toward a gateway, forwardPai anonymity) and To (inbound translation) on
// the forwarded request; responses carry the From and To of the request they answer (RFC 3261
// §8.2.6.2), so the caller must get back what it sent -- with the callee's To tag -- or a strict
// UA would not recognise its own transaction's answer.
import { ownCopy } from "../../util/own-copy.js";
import type { SipRequest, SipResponse } from "../index.js";

export interface CallerView {
  readonly from: string | undefined;
  readonly to: string | undefined;
}

/** The caller's From and To as own copies: the view outlives the request (64*T1 after a 2xx). */
export function takeCallerView(request: SipRequest): CallerView {
  return { from: ownCopy(request.header("From")), to: ownCopy(request.header("To")) };
}

/**
 * The copy of a downstream response that goes upstream (§16.7 step 3: our Via removed), with
 * the caller's From and To put back when the router rewrote them (`view`; null: nothing to do).
 */
export function upstreamCopy(response: SipResponse, view: CallerView | null): SipResponse {
  const copy = response.clone();
  copy.popVia();
  if (view !== null) restoreCallerView(copy, view);
  return copy;
}

/** Puts the caller's From and To back on a response copy about to go upstream. */
function restoreCallerView(copy: SipResponse, view: CallerView): void {
  const { from, to } = view;
  if (from !== undefined && copy.header("From") !== from) copy.setHeader("From", from);
  const answeredTo = copy.header("To");
  if (to === undefined || answeredTo === undefined) return;
  const tag = copy.to?.tag ?? null;
  const expected = tag === null ? to : `${to};tag=${tag}`;
  if (answeredTo !== expected && answeredTo !== to) copy.setHeader("To", expected);
}
