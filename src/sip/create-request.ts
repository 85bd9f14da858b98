// Building a request the proxy originates: CANCEL (§9.1), ACK for a non-2xx final response
// (§17.1.1.3), and OPTIONS probes to gateways (§11).
import { HeaderField } from "./header-field.js";
import { SipRequest } from "./sip-request.js";

export interface RequestSpec {
  readonly method: string;
  readonly requestUri: string;
  /** Via values, topmost first (a CANCEL or non-2xx ACK has exactly the original request's top Via). */
  readonly via: readonly string[];
  readonly from: string;
  readonly to: string;
  readonly callId: string;
  readonly cseq: number;
  /** Default 70 (§8.1.1.6). */
  readonly maxForwards?: number;
  /** Route values, in order (a CANCEL/ACK copies the original request's Route set, §9.1). */
  readonly route?: readonly string[];
  /** Other headers, appended in order. */
  readonly headers?: readonly (readonly [name: string, value: string])[];
  readonly body?: Buffer | string;
  readonly contentType?: string;
}

/** Builds a request; throws RangeError on a value that would break the message (CR/LF, bad method). */
export function createRequest(spec: RequestSpec): SipRequest {
  if (!/^[A-Za-z0-9\-.!%*_+`'~]+$/.test(spec.method))
    throw new RangeError(`invalid method ${JSON.stringify(spec.method)}`);
  if (!Number.isInteger(spec.cseq) || spec.cseq < 0 || spec.cseq >= 2 ** 31)
    throw new RangeError(`invalid CSeq ${spec.cseq}`);
  const fields: HeaderField[] = [];
  for (const via of spec.via) fields.push(HeaderField.create("Via", via));
  fields.push(HeaderField.create("Max-Forwards", String(spec.maxForwards ?? 70)));
  for (const route of spec.route ?? []) fields.push(HeaderField.create("Route", route));
  fields.push(HeaderField.create("From", spec.from));
  fields.push(HeaderField.create("To", spec.to));
  fields.push(HeaderField.create("Call-ID", spec.callId));
  fields.push(HeaderField.create("CSeq", spec.cseq + " " + spec.method));
  for (const [name, value] of spec.headers ?? []) fields.push(HeaderField.create(name, value));
  const body = spec.body === undefined ? Buffer.alloc(0) : Buffer.from(spec.body);
  if (body.length > 0 && spec.contentType !== undefined)
    fields.push(HeaderField.create("Content-Type", spec.contentType));
  fields.push(HeaderField.create("Content-Length", String(body.length)));
  const request = new SipRequest(spec.method, "sip:invalid", fields, body, null);
  request.setRequestUri(spec.requestUri);
  return request;
}
