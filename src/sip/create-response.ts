// Building a response to a request (RFC 3261 §8.2.6, and §16.7/§16.8 for responses a proxy
// generates itself, e.g. 100 Trying, 483, 400 from a parse error).

import { randomHex } from "../util/random-hex.js";
import { HeaderField } from "./header-field.js";
import type { SipRequest } from "./sip-request.js";
import { SipResponse } from "./sip-response.js";
import { nulsOnlyInQuotedPairs } from "./text-scan.js";

export interface ResponseOptions {
  /** To tag to add when the request's To has none (§8.2.6.2). Default: a fresh random tag for status > 100. */
  readonly toTag?: string;
  /** Extra headers, appended in order. */
  readonly headers?: readonly (readonly [name: string, value: string])[];
  readonly body?: Buffer | string;
  /** Content-Type of the body. */
  readonly contentType?: string;
}

/** Methods that create a dialog: their 101-299 responses carry the Record-Route set (§12.1.1). */
const DIALOG_CREATING: ReadonlySet<string> = new Set(["INVITE", "SUBSCRIBE", "REFER"]);

/** A value a created field can carry: no CR or LF, a NUL only as a quoted-pair (§25.1). */
function canRewrite(value: string): boolean {
  if (value.indexOf("\r") !== -1 || value.indexOf("\n") !== -1) return false;
  return value.indexOf("\0") === -1 || nulsOnlyInQuotedPairs(value);
}

/** A random tag with at least 32 bits of randomness (§19.3). */
export function randomTag(): string {
  return randomHex(6);
}

/**
 * Builds a response to `request`: copies every Via (in order), From, To (adding a tag for
 * status > 100 if it has none), Call-ID and CSeq (§8.2.6.2); copies Timestamp into a 100
 * (§8.2.6.1); copies Record-Route into 101-299 responses to dialog-creating requests (§12.1.1).
 * Header values are copied from the request as they were written. Fields missing from a
 * partial request (a parse error) are simply left out. Content-Length is always written.
 */
export function createResponse(
  request: SipRequest,
  status: number,
  reason: string,
  options: ResponseOptions = {},
): SipResponse {
  if (!Number.isInteger(status) || status < 100 || status > 699)
    throw new RangeError(`invalid status code ${status}`);
  if (/[\r\n\0]/.test(reason)) throw new RangeError("reason phrase must not contain CR, LF or NUL");
  // Fields are immutable, so the request's own fields are reused: their original bytes are
  // copied into the response (spelling and compact forms kept), which also works for a
  // partial request whose values contain bytes an edit would refuse.
  const fields: HeaderField[] = [];
  const copy = (key: string, onlyFirst = false) => {
    for (const f of request.headerFields) {
      if (f.key !== key) continue;
      fields.push(f);
      if (onlyFirst) break;
    }
  };
  copy("via");
  if (status >= 101 && status <= 299 && DIALOG_CREATING.has(request.method)) copy("record-route");
  copy("from", true);
  const to = request.headerFields.find((f) => f.key === "to");
  if (to !== undefined) {
    const needsTag =
      status > 100 && request.to !== undefined && request.to.tag === null && canRewrite(to.value);
    fields.push(
      needsTag ? HeaderField.create(to.name, to.value + ";tag=" + (options.toTag ?? randomTag())) : to,
    );
  }
  copy("call-id", true);
  copy("cseq", true);
  if (status === 100) copy("timestamp");
  for (const [name, value] of options.headers ?? []) fields.push(HeaderField.create(name, value));
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body);
  if (body.length > 0 && options.contentType !== undefined)
    fields.push(HeaderField.create("Content-Type", options.contentType));
  fields.push(HeaderField.create("Content-Length", String(body.length)));
  return new SipResponse(status, reason, fields, body, null);
}
