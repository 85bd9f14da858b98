// dialgate SIP message layer (RFC 3261 §7, §19, §20, §25; RFC 3966; RFC 5626 §3.5.1).
//
// Public API — everything an edge needs is exported from here:
//
//   parseSipMessage(data, { maxBytes?, maxHeaders?, transport?: "datagram" | "stream", requireMaxForwards? })
//     -> { ok: true, message: SipRequest | SipResponse } | { ok: false, error: SipParseError }
//     Never throws. `error` has `code`, `reason` (usable as a Reason-Phrase), `header`,
//     `status` (400/413/505), `canRespond` (false: drop silently, RFC 3261 §18.2.2 / responses /
//     ACK) and `partial` (the request as far as it was read: `createResponse(partial, status, reason)`).
//     Mandatory: Via, From, To, Call-ID, CSeq; Max-Forwards only with `requireMaxForwards`
//     (RFC 2543 requests have none, §16.6 step 3 adds it). Content-Length only on streams (§18.3).
//
//   SipRequest / SipResponse (common base SipMessage)
//     method, requestUri (settable), uri (parsed) | status, reason
//     header(name) first value; headers(name) all values (list headers split at commas);
//     hasHeader, countHeader, headerFields (in order, original names); body: Buffer
//     Typed, lazy and cached: viaHops, topVia, maxForwards, from, to, callId, cseq, contact
//     ("*" or NameAddr[]), routes, recordRoutes, contentLength, contentType, expires,
//     authorization, proxyAuthorization, wwwAuthenticate, proxyAuthenticate, reasons, allow,
//     supported, require, proxyRequire, pAssertedIdentity, diversion, historyInfo, referredBy.
//     Header values are decoded as UTF-8 when valid, else one char per byte; untouched lines
//     are always serialised from the original bytes.
//     Edits (§16.6): pushVia, popVia, decrementMaxForwards, addRecordRoute, removeFirstRoute,
//     setRequestUri, addHeader(name, value, { first? }), removeHeader, setHeader, setBody,
//     ensureContentLength; clone() for one copy per target.
//     serialize(): the same Buffer for an unmodified parsed message; otherwise only edited
//     lines are rewritten. Edits throw RangeError on values with CR/LF/NUL (header injection).
//
//   createResponse(request, status, reason, { toTag?, headers?, body?, contentType? })  §8.2.6
//   createRequest({ method, requestUri, via, from, to, callId, cseq, maxForwards?, route?, headers?, body? })
//   parseUri(text) -> SipUri | TelUri | AbsoluteUri | undefined; formatUri(uri)
//   parseNameAddr(text) -> NameAddr | undefined; parseViaHop(text); parseCSeq(text)
//   toUriView(uri), toNameAddrView(nameAddr): the router boundary types
//   SipStreamFramer: push(chunk) -> FramerEvent[] ("message" | "ping" (answer CRLF) | "pong" | "error")
export type { AuthHeader } from "./auth-header.js";
export { parseAuthHeader } from "./auth-header.js";
export { createRequest, type RequestSpec } from "./create-request.js";
export { createResponse, type ResponseOptions, randomTag } from "./create-response.js";
export type { CSeq } from "./cseq.js";
export { parseCSeq } from "./cseq.js";
export type { HeaderField } from "./header-field.js";
export { canonicalSpelling, headerKey } from "./header-names.js";
export { type NameAddr, parseNameAddr } from "./name-addr.js";
export type { SipParseError, SipParseErrorCode } from "./parse-error.js";
export { type ParseOptions, type ParseResult, parseSipMessage } from "./parse-message.js";
export { parseReason, type ReasonValue } from "./reason-header.js";
export { type ContactList, SipMessage } from "./sip-message.js";
export { SipRequest } from "./sip-request.js";
export { SipResponse } from "./sip-response.js";
export {
  type FramerEvent,
  SipStreamFramer,
  type StreamFramingError,
  type StreamLimits,
} from "./stream-framer.js";
export type { Params } from "./text-scan.js";
export { type AbsoluteUri, formatUri, parseUri, type SipUri, type TelUri, type Uri } from "./uri.js";
export { toNameAddrView, toUriView } from "./uri-view.js";
export { parseViaHop, type ViaHop } from "./via.js";
