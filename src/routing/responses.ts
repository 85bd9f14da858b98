// Final responses the router gives itself, with the reason phrases and Reason headers
// (RFC 3326) that tell the caller why. Q.850 causes follow RFC 3398's mapping.
import type { CallContext, RoutingDecision } from "./decision.js";

export type Header = readonly [name: string, value: string];

export interface Rejection {
  readonly status: number;
  readonly reason: string;
  readonly headers: readonly Header[];
}

export function respond(status: number, reason: string, headers: readonly Header[] = []): RoutingDecision {
  return headers.length > 0
    ? { kind: "respond", status, reason, headers }
    : { kind: "respond", status, reason };
}

export function reject(r: Rejection): RoutingDecision {
  return respond(r.status, r.reason, r.headers);
}

/** A refused INVITE of an identified caller: the decision carries the call for its CDR. */
export function rejectCall(r: Rejection, call: CallContext): RoutingDecision {
  return r.headers.length > 0
    ? { kind: "respond", status: r.status, reason: r.reason, headers: r.headers, call }
    : { kind: "respond", status: r.status, reason: r.reason, call };
}

/** `decision` with `call` attached when it refuses the request (a forward keeps its own). */
export function withCall(decision: RoutingDecision, call: CallContext): RoutingDecision {
  return decision.kind === "respond" && decision.call === undefined ? { ...decision, call } : decision;
}

/** Methods a caller may use through dialgate (RFC 3261 §20.5 Allow). */
export const ALLOWED_METHODS =
  "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO, PRACK, REFER, NOTIFY";

export const rejections = {
  /** Unknown caller: the proxy is never an open relay (routing.md "Who is calling"). */
  forbidden: (why: string): Rejection => ({
    status: 403,
    reason: "Forbidden",
    headers: [["Reason", `SIP;cause=403;text="${sanitize(why)}"`]],
  }),
  /** routing.md step 5: no voice route matches; the reason says no route exists. */
  noRoute: (): Rejection => ({
    status: 404,
    reason: "No Route Found",
    headers: [["Reason", 'Q.850;cause=3;text="No route to destination"']],
  }),
  /**
   * Routes matched but every gateway was disabled or full: an empty target set, which RFC 3261
   * §16.5 answers with 480.
   */
  noGatewayAvailable: (): Rejection => ({
    status: 480,
    reason: "Temporarily Unavailable",
    headers: [["Reason", 'Q.850;cause=34;text="No circuit/channel available"']],
  }),
  /** The dialled string cannot be a number (dialplan.md step 1); Q.850 28 maps to 484. */
  invalidNumber: (why: string): Rejection => ({
    status: 484,
    reason: "Address Incomplete",
    headers: [["Reason", `Q.850;cause=28;text="${sanitize(why)}"`]],
  }),
  /** routing.md inbound step 4: the user has no registration and no static contact. */
  notRegistered: (): Rejection => ({
    status: 480,
    reason: "Temporarily Unavailable",
    headers: [["Reason", 'Q.850;cause=20;text="Subscriber absent"']],
  }),
  /** routing.md inbound step 5: no user has the number and there is no treatment. */
  unassignedNumber: (): Rejection => ({
    status: 404,
    reason: "Not Found",
    headers: [["Reason", 'Q.850;cause=1;text="Unallocated (unassigned) number"']],
  }),
  methodNotAllowed: (): Rejection => ({
    status: 405,
    reason: "Method Not Allowed",
    headers: [["Allow", ALLOWED_METHODS]],
  }),
} as const;

/** Keep text safe inside a quoted header parameter. */
function sanitize(text: string): string {
  return text.replace(/[\\"\r\n]/g, " ").slice(0, 120);
}
