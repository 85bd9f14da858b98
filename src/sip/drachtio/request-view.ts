// The router's view of a request that drachtio-server delivered: the raw message drachtio
// forwards is parsed with dialgate's own parser (bench/README.md: faster than drachtio-srf's
// and sip.js's on the same messages, and it is what the native edge uses, so both edges hand
// the router byte-for-byte the same view), and the source is the peer drachtio saw.
import type { InboundRequest, SipTransport } from "../../routing/decision.js";
import { parseSipMessage, SipRequest } from "../index.js";
import { inboundRequestView } from "../native/inbound-request-view.js";
import type { SrfRequest } from "./srf-types.js";

export interface ParsedInbound {
  readonly request: SipRequest;
  readonly view: InboundRequest;
}

export function transportOf(protocol: string): SipTransport {
  const p = protocol.toLowerCase();
  return p === "tcp" ? "tcp" : p === "tls" || p === "wss" ? "tls" : "udp";
}

/** A request drachtio-server accepted and dialgate's parser refuses: why, and the parser's code. */
export interface UnparsedInbound {
  readonly error: string;
  readonly code: string;
}

/** Parses the request drachtio forwarded; an error when it does not parse (drachtio already accepted it). */
export function parseInbound(
  req: SrfRequest,
  addressedToProxy: (r: SipRequest) => boolean,
  maxBytes: number,
): ParsedInbound | UnparsedInbound {
  const raw = Buffer.from(req.msg.raw, "utf8");
  const parsed = parseSipMessage(raw, { maxBytes, transport: "datagram" });
  if (!parsed.ok) return { error: parsed.error.reason, code: parsed.error.code };
  if (!(parsed.message instanceof SipRequest)) return { error: "not a request", code: "not-a-request" };
  const request = parsed.message;
  const view = inboundRequestView(
    request,
    {
      address: req.source_address,
      port: Number(req.source_port),
      transport: transportOf(req.protocol),
    },
    addressedToProxy(request),
  );
  return { request, view };
}
