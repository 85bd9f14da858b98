// The checks that end a request at the proxy before anything is forwarded: what a request
// that does not parse is answered, a branch no transaction can be keyed on, §16.3 request
// validation (Max-Forwards, loops, Proxy-Require) and what an out-of-dialog request may be.
import type { SipParseError, SipRequest } from "../index.js";
import type { LocalIdentity } from "./edge-addressing.js";
import { isLooped } from "./route-preprocessing.js";
import { MAGIC_COOKIE } from "./transaction-key.js";

/** A final answer the edge gives itself. */
export interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly headers?: readonly (readonly [string, string])[];
}

/** Methods the proxy knows (RFC 3261 and the extensions it forwards); others get 501 out of dialog. */
const KNOWN_METHODS = new Set([
  "INVITE",
  "ACK",
  "BYE",
  "CANCEL",
  "OPTIONS",
  "REGISTER",
  "PRACK",
  "SUBSCRIBE",
  "NOTIFY",
  "PUBLISH",
  "INFO",
  "REFER",
  "MESSAGE",
  "UPDATE",
]);
/** Methods that only make sense inside a dialog: out of one they get 481. */
const DIALOG_ONLY = new Set(["BYE", "PRACK", "UPDATE", "INFO"]);
export const ALLOW =
  "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, PRACK, UPDATE, INFO, REFER, NOTIFY, SUBSCRIBE, MESSAGE";

/** What an OPTIONS answered by the proxy itself advertises. */
export function capabilityHeaders(): [string, string][] {
  return [
    ["Allow", ALLOW],
    ["Accept", "application/sdp"],
    ["Supported", ""],
  ];
}

/**
 * The answer to a request that did not parse: the parser's status and reason, except for an
 * unknown method whose CSeq names another one, where RFC 4475 §3.1.2.18 prefers 501 (what the
 * method alone would get) to 400.
 */
export function refuseMalformed(error: SipParseError): Refusal {
  const method = error.partial?.method ?? "";
  if (error.code === "cseq-method-mismatch" && !KNOWN_METHODS.has(method))
    return { status: 501, reason: "Not Implemented", headers: [["Allow", ALLOW]] };
  return { status: error.status, reason: error.reason };
}

/**
 * A top Via branch that is the magic cookie and nothing else claims RFC 3261 transaction
 * identifiers but carries none: every such request from one sent-by would share a transaction
 * key. RFC 4475 §3.2.1 allows a 400, preferably stateless (the sender's next requests are
 * likely to be the same), rather than a guess. A branch without the cookie is RFC 2543 style
 * and is matched by the §17.2.3 fallback instead. ACK cannot be answered: it goes on.
 */
export function refuseBranch(r: SipRequest): Refusal | null {
  if (r.method === "ACK" || r.topVia?.branch !== MAGIC_COOKIE) return null;
  return { status: 400, reason: "Missing transaction identifier in branch" };
}

/** §16.3 steps 3–5. */
export function validateForProxying(r: SipRequest, us: LocalIdentity): Refusal | null {
  // Step 3: Max-Forwards 0 ends the request here (an OPTIONS may be answered by us).
  if (r.maxForwards === 0) {
    return r.method === "OPTIONS"
      ? { status: 200, reason: "OK", headers: capabilityHeaders() }
      : { status: 483, reason: "Too Many Hops" };
  }
  // Step 4: loop detection.
  if (isLooped(r, us)) return { status: 482, reason: "Loop Detected" };
  // Step 5: we support no extension a proxy must understand.
  const proxyRequire = r.proxyRequire;
  if (proxyRequire.length > 0)
    return { status: 420, reason: "Bad Extension", headers: [["Unsupported", proxyRequire.join(", ")]] };
  return null;
}

/** An out-of-dialog request the proxy does not route: unknown methods, dialog-only methods, event state to us. */
export function refuseOutOfDialog(r: SipRequest, toProxy: boolean): Refusal | null {
  if (!KNOWN_METHODS.has(r.method))
    return { status: 501, reason: "Not Implemented", headers: [["Allow", ALLOW]] };
  if (DIALOG_ONLY.has(r.method)) return { status: 481, reason: "Call/Transaction Does Not Exist" };
  // §16.3 step 2, RFC 4475 §3.3.2–§3.3.3: a Request-URI of a scheme the proxy cannot route.
  if (r.uri?.kind === "absolute") return { status: 416, reason: "Unsupported URI Scheme" };
  if ((r.method === "PUBLISH" || r.method === "SUBSCRIBE") && toProxy && r.routes.length === 0)
    return { status: 405, reason: "Method Not Allowed", headers: [["Allow", ALLOW]] };
  return null;
}
