// What the edge tells metrics about the SIP traffic it receives: one call per parsed message
// and per message that could not be parsed. Kept to counts (no message objects retained), so an
// observer cannot slow the hot path beyond an increment.
export interface SipTrafficObserver {
  requestReceived(method: string): void;
  responseReceived(status: number): void;
  /** `code`: the parser's error code, or `stream` for a framing error on TCP/TLS. */
  parseError(code: string): void;
}
