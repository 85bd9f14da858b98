// What the edge sends without a transaction: ACKs for 2xx (§16.11), 2xx responses whose client
// transaction is gone (§16.7, RFC 6026), and answers to requests no transaction could be made for.
import type { Logger } from "../../util/logger.js";
import type { SipRequest, SipResponse, ViaHop } from "../index.js";
import { defaultPort, type LocalIdentity, responseDestination, stripBrackets } from "./edge-addressing.js";
import { fnv1a } from "./loop-detection.js";
import { ownVia } from "./proxy-context.js";
import { nextHop, preprocessRoutes } from "./route-preprocessing.js";
import { MAGIC_COOKIE } from "./transaction-key.js";
import type { TransportLayer } from "./transport-layer.js";
import type { Destination, MessageSource } from "./transport-types.js";
import { isUnicastHost } from "./unicast-host.js";

export class StatelessForwarder {
  constructor(
    private readonly transport: TransportLayer,
    private readonly us: LocalIdentity,
    private readonly log: Logger,
  ) {}

  /** §16.11: an ACK for a 2xx is forwarded statelessly along the Route set, with a branch derived from its own. */
  forwardAck(r: SipRequest): void {
    if (r.maxForwards === 0) return;
    if (!preprocessRoutes(r, this.us)) return;
    const dest = nextHop(r);
    if (dest === null || !isUnicastHost(stripBrackets(dest.host))) return;
    const local = this.transport.localFor(dest);
    if (local === null) return;
    r.decrementMaxForwards();
    const top = r.topVia;
    const seed = `${top?.branch ?? ""}|${top?.host ?? ""}|${top?.port ?? ""}|${r.callId ?? ""}`;
    const branch = `${MAGIC_COOKIE}dgs${fnv1a(seed).toString(16)}${fnv1a(seed, 0x12345678).toString(16)}`;
    r.pushVia(ownVia(dest.transport, this.us.sentByFor(local), branch));
    if (dest.transport !== "udp") r.ensureContentLength();
    this.transport.send(dest, r.serialize(), (err) => this.log.debug({ err: err.message }, "ACK not sent"));
  }

  /** Sends a response by its top Via (§18.2.2, RFC 3581 §5), without a transaction. */
  forwardResponse(response: SipResponse): void {
    const via = response.topVia;
    if (via === undefined) return;
    const host = stripBrackets(via.received ?? via.host);
    // RFC 4475 §3.3.10: a stray response whose next Via names a broadcast or multicast address
    // is dropped, or the proxy would send it to a whole network.
    if (!isUnicastHost(host)) {
      this.log.debug({ host, callId: response.callId }, "response not forwarded: its Via is not one host");
      return;
    }
    const transport = via.transport === "UDP" ? "udp" : via.transport === "TLS" ? "tls" : "tcp";
    const dest: Destination = {
      host,
      port: via.rport ?? via.port ?? defaultPort(transport),
      transport,
    };
    this.transport.send(dest, response.serialize(), (err) =>
      this.log.debug({ err: err.message }, "response not sent"),
    );
  }

  /** Answers a request without a transaction, back to where it came from. */
  reply(via: ViaHop | undefined, source: MessageSource, data: Buffer): void {
    const dest =
      via === undefined
        ? { host: source.address, port: source.port, transport: source.transport }
        : responseDestination(via, source);
    this.transport.reply(source, dest, data, () => {});
  }
}
