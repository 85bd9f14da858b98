// A SIP request (RFC 3261 §7.1): Method SP Request-URI SP SIP-Version CRLF.
import type { HeaderField } from "./header-field.js";
import { assertSafeHeaderText } from "./header-field.js";
import { SipMessage, type WireLayout } from "./sip-message.js";
import { hasWhitespace } from "./text-scan.js";
import { parseUri, type Uri } from "./uri.js";

export class SipRequest extends SipMessage {
  readonly isRequest = true;
  /** The method, case-sensitive (§7.1). */
  readonly method: string;
  #requestUri: string;
  #uri: Uri | undefined | null = null;

  /** @internal Built by `parseSipMessage` and `createRequest`. */
  constructor(
    method: string,
    requestUri: string,
    fields: HeaderField[],
    body: Buffer | null,
    wire: WireLayout | null,
    parsedUri: Uri | undefined | null = null,
  ) {
    super(fields, body, wire);
    this.method = method;
    this.#requestUri = requestUri;
    this.#uri = parsedUri;
  }

  /** The Request-URI as text. Setting it rewrites only the request line. */
  get requestUri(): string {
    return this.#requestUri;
  }

  set requestUri(uri: string) {
    this.setRequestUri(uri);
  }

  /** Replaces the Request-URI (§16.6 step 2, §16.12); throws RangeError on whitespace or control characters. */
  setRequestUri(uri: string): void {
    assertSafeHeaderText("Request-URI", uri);
    // A URI has no quoted-strings, so not even a quoted-pair NUL (§25.1).
    if (uri.length === 0 || hasWhitespace(uri) || uri.indexOf("\0") !== -1)
      throw new RangeError(`invalid Request-URI: ${JSON.stringify(uri)}`);
    this.#requestUri = uri;
    this.#uri = null;
    this.markStartLineChanged();
  }

  /** The Request-URI parsed (sip/sips/tel/absolute); undefined when malformed. */
  get uri(): Uri | undefined {
    if (this.#uri === null) this.#uri = parseUri(this.#requestUri);
    return this.#uri;
  }

  startLine(): string {
    return this.method + " " + this.#requestUri + " SIP/2.0";
  }

  /** A copy that can be edited independently (§16.6 step 1: one copy per target). */
  clone(): SipRequest {
    const copy = new SipRequest(this.method, this.#requestUri, [], this.body, null, this.#uri);
    this.copyStateTo(copy);
    return copy;
  }
}
