// Transport dispatch: every datagram or framed stream message is parsed once here and handed to
// the edge as a request or a response; malformed input is answered (400/413/505 with the
// parser's reason, 501 for an unknown method) when a response can be sent, else dropped
// (§18.2.2). Well-formed but old-fashioned input goes on (RFC 4475 §3.4.1): no Max-Forwards
// (§16.6 step 3 adds one), no Content-Length in a datagram (the body runs to its end, §18.3), no
// branch (the §17.2.3 RFC 2543 fallback keys its transaction). A bug in a handler is logged,
// never thrown into the socket's event handler.
import type { Logger } from "../../util/logger.js";
import { createResponse, parseSipMessage, type SipParseError, SipRequest, SipResponse } from "../index.js";
import { type Refusal, refuseBranch, refuseMalformed } from "./request-checks.js";
import type { SipTrafficObserver } from "./sip-traffic-observer.js";
import type { StatelessForwarder } from "./stateless-forwarder.js";
import type { InboundMessage, ListenAddress, MessageSource, TransportHandlers } from "./transport-types.js";

export interface ParsedMessageHandler {
  onRequest(request: SipRequest, source: MessageSource): void;
  onResponse(response: SipResponse): void;
}

export class InboundDispatch implements TransportHandlers {
  constructor(
    private readonly maxMessageBytes: number,
    private readonly handler: ParsedMessageHandler,
    private readonly stateless: () => StatelessForwarder,
    private readonly log: Logger,
    private readonly observer?: SipTrafficObserver,
    /** sip.limits.maxHeaders: more header fields than this get a 400. */
    private readonly maxHeaders = 256,
  ) {}

  onMessage(m: InboundMessage): void {
    const parsed = parseSipMessage(m.data, {
      maxBytes: this.maxMessageBytes,
      maxHeaders: this.maxHeaders,
      transport: m.source.transport === "udp" ? "datagram" : "stream",
    });
    if (!parsed.ok) {
      if (parsed.error.code !== "empty") this.observer?.parseError(parsed.error.code);
      this.onParseError(parsed.error, m.source);
      return;
    }
    if (this.observer !== undefined) {
      if (parsed.message instanceof SipRequest) this.observer.requestReceived(parsed.message.method);
      else if (parsed.message instanceof SipResponse) this.observer.responseReceived(parsed.message.status);
    }
    try {
      if (parsed.message instanceof SipRequest) {
        const refusal = refuseBranch(parsed.message);
        if (refusal !== null) this.replyStatelessly(parsed.message, refusal, m.source);
        else this.handler.onRequest(parsed.message, m.source);
      } else if (parsed.message instanceof SipResponse) this.handler.onResponse(parsed.message);
    } catch (err) {
      // A bug must not take the proxy down: log it; the peer's retransmission gets another go.
      this.log.error({ err: (err as Error).stack }, "error while handling a SIP message");
    }
  }

  onStreamError(source: MessageSource, head: Buffer | null, status: number, reason: string): void {
    this.observer?.parseError("stream");
    if (head === null) return;
    const parsed = parseSipMessage(head, { maxBytes: Number.MAX_SAFE_INTEGER, transport: "datagram" });
    const partial = parsed.ok
      ? parsed.message instanceof SipRequest
        ? parsed.message
        : null
      : parsed.error.partial;
    if (partial === null || partial.method === "ACK") return;
    try {
      this.stateless().reply(partial.topVia, source, createResponse(partial, status, reason).serialize());
    } catch {
      // Nothing usable to answer with: the connection is closed anyway.
    }
  }

  onError(err: Error, local: ListenAddress): void {
    this.log.error({ err: err.message, local }, "transport error");
  }

  /** Malformed input: 400/413/505 with the parser's reason when a response can be sent, else drop (§18.2.2). */
  private onParseError(error: SipParseError, source: MessageSource): void {
    if (error.code === "empty") return;
    this.log.debug({ code: error.code, reason: error.reason, from: source.address }, "malformed SIP message");
    if (!error.canRespond || error.partial === null) return;
    this.replyStatelessly(error.partial, refuseMalformed(error), source);
  }

  /** Answers without a transaction: by the top Via, or to the source when the Via does not parse. */
  private replyStatelessly(request: SipRequest, refusal: Refusal, source: MessageSource): void {
    try {
      const response = createResponse(request, refusal.status, refusal.reason, {
        ...(refusal.headers ? { headers: refusal.headers } : {}),
      });
      this.stateless().reply(request.topVia, source, response.serialize());
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, "cannot answer a malformed request");
    }
  }
}
