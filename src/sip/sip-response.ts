// A SIP response (RFC 3261 §7.2): SIP-Version SP Status-Code SP Reason-Phrase CRLF.
import type { HeaderField } from "./header-field.js";
import { SipMessage, type WireLayout } from "./sip-message.js";

export class SipResponse extends SipMessage {
  readonly isRequest = false;
  /** Status-Code, 100..699. */
  readonly status: number;
  /** Reason-Phrase (may be empty, RFC 4475 §3.1.1.13). */
  readonly reason: string;

  /** @internal Built by `parseSipMessage` and `createResponse`. */
  constructor(
    status: number,
    reason: string,
    fields: HeaderField[],
    body: Buffer | null,
    wire: WireLayout | null,
  ) {
    super(fields, body, wire);
    this.status = status;
    this.reason = reason;
  }

  startLine(): string {
    return "SIP/2.0 " + this.status + " " + this.reason;
  }

  /** A copy that can be edited independently. */
  clone(): SipResponse {
    const copy = new SipResponse(this.status, this.reason, [], this.body, null);
    this.copyStateTo(copy);
    return copy;
  }
}
