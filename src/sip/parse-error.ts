// Parse errors are values (conventions.md): a code for the rule that was broken, a reason
// phrase the edge can send in its response, the status to answer with, and whether a
// response can be sent at all.
import type { SipRequest } from "./sip-request.js";

export type SipParseErrorCode =
  /** Nothing but whitespace / CRLF (a keep-alive datagram): drop silently. */
  | "empty"
  /** The message exceeds the configured size limit (413). */
  | "too-large"
  /** A NUL byte in the start line or header section. */
  | "nul-byte"
  /** The header section has no terminating empty line. */
  | "truncated"
  | "bad-start-line"
  | "bad-request-uri"
  /** A SIP version other than 2.0 (505, RFC 3261 §8.2.2... via §21.5.6). */
  | "unsupported-version"
  | "bad-status-code"
  /** A header line without a colon or with a name that is not a token. */
  | "bad-header-line"
  | "too-many-headers"
  | "missing-header"
  /** A header that may appear once appears more than once (RFC 4475 §3.3.8, §3.3.9). */
  | "duplicate-header"
  /** A header whose value does not follow its grammar. */
  | "bad-header"
  | "cseq-method-mismatch"
  | "bad-content-length"
  /** A message on a stream transport without Content-Length (RFC 3261 §18.3). */
  | "missing-content-length"
  /** An exception inside the parser (a bug): reported, never thrown. */
  | "internal";

export interface SipParseError {
  readonly code: SipParseErrorCode;
  /** Short text suitable as a Reason-Phrase: `Missing Call-ID header`. */
  readonly reason: string;
  /** The header the problem is about (canonical spelling), when there is one. */
  readonly header: string | null;
  /** The status to answer a request with: 400, 413 or 505. */
  readonly status: number;
  /**
   * Whether a response can be sent: only for requests other than ACK that have a Via (RFC
   * 3261 §18.2.2 sends responses by Via; a response or ACK, or a request without any Via, is
   * silently discarded). When the top Via does not parse (`partial.topVia` undefined), the
   * response goes back to the request's source address and port.
   */
  readonly canRespond: boolean;
  /** True/false when the start line showed a request/response; null when it was unreadable. */
  readonly isRequest: boolean | null;
  /**
   * What could be read of a request: its headers as far as they were parsed, so that
   * `createResponse(partial, error.status, error.reason)` builds the error response. Typed
   * accessors on it may return undefined. Null when nothing usable was read.
   */
  readonly partial: SipRequest | null;
}
