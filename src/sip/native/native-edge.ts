// The native SIP edge (architecture.md): an RFC 3261 stateful, record-routing proxy in process.
// It owns the transports and transaction tables, classifies every inbound message, hands new
// dialog-creating and out-of-dialog requests to the router, and runs a ProxyCall (response
// context) per forwarded request. In-dialog requests are loose-routed without the router.
import { randomBytes } from "node:crypto";
import { CallEventBus } from "../../calls/events.js";
import type { SipSettings } from "../../config/schema.js";
import type { CallRouter, OutboundRequester, RouteTarget, RoutingDecision } from "../../routing/decision.js";
import { type Clock, systemClock } from "../../util/clock.js";
import { type Logger, silentLogger } from "../../util/logger.js";
import {
  createRequest,
  createResponse,
  parseSipMessage,
  randomTag,
  type SipParseError,
  SipRequest,
  SipResponse,
  type ViaHop,
} from "../index.js";
import { DialogTracker } from "./dialog-tracker.js";
import { inboundRequestView } from "./inbound-request-view.js";
import { InviteServerState, InviteServerTransaction } from "./invite-server-transaction.js";
import { BRANCH_PREFIX, fnv1a, loopHash, loopHashOfBranch } from "./loop-detection.js";
import { NonInviteClientTransaction } from "./non-invite-client-transaction.js";
import { NonInviteServerTransaction } from "./non-invite-server-transaction.js";
import { type ForwardPlan, ProxyCall } from "./proxy-call.js";
import { type ClientTx, type ProxyContext, viaTransportName } from "./proxy-context.js";
import type { ServerTx } from "./server-tx.js";
import { SystemTimerService, type TimerService } from "./timer-service.js";
import { clientTransactionKey, MAGIC_COOKIE, serverTransactionKey } from "./transaction-key.js";
import { TransactionLayer } from "./transaction-layer.js";
import { TransactionTimers } from "./transaction-timers.js";
import type { TransactionChannel } from "./transaction-user.js";
import { TransportLayer } from "./transport-layer.js";
import type { Destination, InboundMessage, ListenAddress, MessageSource } from "./transport-types.js";

export interface NativeEdgeOptions {
  readonly settings: SipSettings;
  readonly router: CallRouter;
  readonly events?: CallEventBus;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Timers for transactions and proxy contexts (tests inject a manual one). */
  readonly timerService?: TimerService;
}

/** Counts that must return to zero once traffic stops (leak tests, metrics, drain). */
export interface NativeEdgeStats {
  readonly serverTransactions: number;
  readonly clientTransactions: number;
  /** Response contexts (forwarded requests) still alive. */
  readonly calls: number;
  /** Answered INVITE dialogs not yet ended by a BYE. */
  readonly dialogs: number;
  readonly timers: number;
  readonly tcpConnections: number;
}

/** Methods the proxy knows (RFC 3261 and the extensions it forwards); others get 501 out of dialog. */
const KNOWN_METHODS = new Set([
  "INVITE",
  "ACK",
  "BYE",
  "CANCEL",
  "OPTIONS",
  "REGISTER",
  "PRACK",
  "SUBSCRIBE",
  "NOTIFY",
  "PUBLISH",
  "INFO",
  "REFER",
  "MESSAGE",
  "UPDATE",
]);
/** Methods that only make sense inside a dialog: out of one they get 481. */
const DIALOG_ONLY = new Set(["BYE", "PRACK", "UPDATE", "INFO"]);
const ALLOW =
  "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, PRACK, UPDATE, INFO, REFER, NOTIFY, SUBSCRIBE, MESSAGE";

/** What an INVITE server transaction is attached to while the router decides and after. */
interface InviteContext {
  readonly request: SipRequest;
  call: ProxyCall | null;
  cancelled: boolean;
}

export class NativeEdge implements OutboundRequester {
  readonly events: CallEventBus;
  private readonly settings: SipSettings;
  private readonly router: CallRouter;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly timerService: TimerService;
  private readonly timers: TransactionTimers;
  private readonly transport: TransportLayer;
  private readonly layer = new TransactionLayer<ServerTx, ClientTx>();
  private readonly inviteContexts = new Map<string, InviteContext>();
  private readonly dialogs = new DialogTracker();
  private readonly branchSalt = randomBytes(4).toString("hex");
  private readonly ctx: ProxyContext;
  private branchCounter = 0;
  private activeCalls = 0;
  private draining = false;
  private ourHosts = new Set<string>();
  private ourPorts = new Set<number>();
  private idleWaiters: (() => void)[] = [];
  private readonly recordRoutes = new Map<string, string>();

  constructor(options: NativeEdgeOptions) {
    this.settings = options.settings;
    this.router = options.router;
    this.events = options.events ?? new CallEventBus();
    this.log = (options.logger ?? silentLogger()).child({ component: "sip" });
    this.clock = options.clock ?? systemClock;
    this.timerService = options.timerService ?? new SystemTimerService();
    this.timers = new TransactionTimers(this.settings.timers);
    this.transport = new TransportLayer(
      {
        onMessage: (m) => this.onMessage(m),
        onStreamError: (source, head, status, reason) => this.onStreamError(source, head, status, reason),
        onError: (err, local) => this.log.error({ err: err.message, local }, "transport error"),
      },
      this.settings.maxMessageBytes,
    );
    this.ctx = this.makeContext();
  }

  /** Binds every configured listen address; returns them with the ports actually bound. */
  async start(): Promise<readonly ListenAddress[]> {
    const native: ListenAddress[] = [];
    for (const l of this.settings.listen) {
      if (l.transport === "tls")
        this.log.warn({ listen: l }, "TLS is not supported by the native edge yet: not listening");
      else native.push({ transport: l.transport, host: l.host, port: l.port });
    }
    const bound = await this.transport.listen(native);
    this.ourHosts = new Set([normalizeHost(this.settings.recordRouteHost)]);
    for (const b of bound) {
      if (b.host !== "0.0.0.0" && b.host !== "::") this.ourHosts.add(normalizeHost(b.host));
      this.ourPorts.add(b.port);
    }
    return bound;
  }

  get listenAddresses(): readonly ListenAddress[] {
    return this.transport.listenAddresses;
  }

  get stats(): NativeEdgeStats {
    return {
      serverTransactions: this.layer.serverCount,
      clientTransactions: this.layer.clientCount,
      calls: this.activeCalls,
      dialogs: this.dialogs.count,
      timers: this.timerService.activeCount,
      tcpConnections: this.transport.tcp.connectionCount,
    };
  }

  /**
   * Stops taking new INVITEs (503 + Retry-After) and waits until calls in progress are over
   * (no response context, no confirmed dialog) or `timeoutMs` passes. Resolves true when idle.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.draining = true;
    if (this.isIdle()) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  /** Terminates every transaction, closes the sockets. */
  async stop(): Promise<void> {
    this.draining = true;
    this.layer.terminateAll();
    this.inviteContexts.clear();
    this.dialogs.clear();
    if (this.timerService instanceof SystemTimerService) this.timerService.clearAll();
    await this.transport.close();
  }

  // ---- OutboundRequester ---------------------------------------------------------------------

  /** An OPTIONS to a gateway (routing.md health checks); resolves with the final status, or null. */
  sendOptions(target: RouteTarget["destination"], requestUri: string): Promise<number | null> {
    const dest: Destination = {
      host: target.host,
      port: target.port,
      transport: target.transport === "udp" ? "udp" : "tcp",
    };
    const local = this.transport.localFor(dest);
    if (local === null) return Promise.resolve(null);
    const request = createRequest({
      method: "OPTIONS",
      requestUri,
      via: [],
      from: `<sip:dialgate@${hostForUri(this.settings.recordRouteHost)}>;tag=${randomTag()}`,
      to: `<${requestUri}>`,
      callId: `${randomTag()}${randomTag()}@dialgate`,
      cseq: 1,
      headers: [["Accept", "application/sdp"]],
    });
    const branch = this.ctx.newBranch(request);
    request.pushVia(
      `SIP/2.0/${viaTransportName(dest.transport)} ${this.sentByFor(local)};branch=${branch};rport`,
    );
    return new Promise((resolve) => {
      let settled = false;
      const finish = (v: number | null) => {
        if (!settled) {
          settled = true;
          resolve(v);
        }
      };
      const tx: NonInviteClientTransaction<SipResponse> = new NonInviteClientTransaction<SipResponse>({
        key: clientTransactionKey(branch, "OPTIONS"),
        request: request.serialize(),
        channel: this.channelTo(dest),
        timers: this.timers,
        timerService: this.timerService,
        user: {
          onResponse: (r) => {
            if (r.status >= 200) finish(r.status);
          },
          onTimeout: () => finish(null),
          onTransportError: () => finish(null),
          onTerminated: () => {
            this.layer.removeClient(tx);
            finish(null);
          },
        },
      });
      this.layer.addClient(tx);
      tx.start();
    });
  }

  // ---- inbound ---------------------------------------------------------------------------------

  private onMessage(m: InboundMessage): void {
    const parsed = parseSipMessage(m.data, {
      maxBytes: this.settings.maxMessageBytes,
      transport: m.source.transport === "udp" ? "datagram" : "stream",
    });
    if (!parsed.ok) {
      this.onParseError(parsed.error, m.source);
      return;
    }
    try {
      if (parsed.message instanceof SipRequest) this.onRequest(parsed.message, m.source);
      else if (parsed.message instanceof SipResponse) this.onResponse(parsed.message);
    } catch (err) {
      // A bug must not take the proxy down: log it; the peer's retransmission gets another go.
      this.log.error({ err: (err as Error).stack }, "error while handling a SIP message");
    }
  }

  /** Malformed input: 400/413/505 with the parser's reason when a response can be sent, else drop (§18.2.2). */
  private onParseError(error: SipParseError, source: MessageSource): void {
    if (error.code === "empty") return;
    this.log.debug({ code: error.code, reason: error.reason, from: source.address }, "malformed SIP message");
    if (!error.canRespond || error.partial === null) return;
    try {
      const response = createResponse(error.partial, error.status, error.reason);
      this.sendStateless(error.partial.topVia, source, response.serialize());
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, "cannot answer a malformed request");
    }
  }

  private onStreamError(source: MessageSource, head: Buffer | null, status: number, reason: string): void {
    if (head === null) return;
    const parsed = parseSipMessage(head, { maxBytes: Number.MAX_SAFE_INTEGER, transport: "datagram" });
    const partial = parsed.ok
      ? parsed.message instanceof SipRequest
        ? parsed.message
        : null
      : parsed.error.partial;
    if (partial === null || partial.method === "ACK") return;
    try {
      this.sendStateless(partial.topVia, source, createResponse(partial, status, reason).serialize());
    } catch {
      // Nothing usable to answer with: the connection is closed anyway.
    }
  }

  private onRequest(r: SipRequest, source: MessageSource): void {
    const via = r.topVia!;
    const replyTo = responseDestination(via, source);
    this.annotateVia(r, via, source);
    const keyFields = {
      method: r.method,
      branch: via.branch,
      sentBy: via.port === null ? via.host : `${via.host}:${via.port}`,
      requestUri: r.requestUri,
      toTag: r.to?.tag ?? null,
      fromTag: r.from?.tag ?? null,
      callId: r.callId ?? "",
      cseq: r.cseq?.seq ?? 0,
      topVia: via.raw.trim(),
    };

    if (r.method === "ACK") {
      const tx = this.layer.findServer(serverTransactionKey(keyFields));
      if (
        tx instanceof InviteServerTransaction &&
        (tx.currentState === InviteServerState.Completed || tx.currentState === InviteServerState.Confirmed)
      ) {
        // §17.2.1: the ACK for a non-2xx final belongs to the INVITE transaction: absorbed.
        tx.receiveAck();
        return;
      }
      this.forwardAckStatelessly(r);
      return;
    }

    // §17.2.3: a retransmission goes to its server transaction.
    const key = serverTransactionKey(keyFields);
    const existing = this.layer.findServer(key);
    if (existing !== undefined) {
      if (existing instanceof InviteServerTransaction) existing.receiveInvite();
      else existing.receiveRequest();
      return;
    }

    if (r.method === "CANCEL") {
      this.onCancel(r, source, replyTo, key, serverTransactionKey(keyFields, "INVITE"));
      return;
    }

    const context: InviteContext = { request: r, call: null, cancelled: false };
    const tx = this.createServerTx(r, source, replyTo, key, context);

    // §16.3 step 3: Max-Forwards 0 ends the request here (an OPTIONS may be answered by us).
    if (r.maxForwards === 0) {
      if (r.method === "OPTIONS") this.respond(tx, r, 200, "OK", this.capabilityHeaders());
      else this.respond(tx, r, 483, "Too Many Hops");
      return;
    }
    // §16.3 step 4: loop detection.
    if (this.isLooped(r)) {
      this.respond(tx, r, 482, "Loop Detected");
      return;
    }
    // §16.3 step 5: we support no extension a proxy must understand.
    const proxyRequire = r.proxyRequire;
    if (proxyRequire.length > 0) {
      this.respond(tx, r, 420, "Bad Extension", [["Unsupported", proxyRequire.join(", ")]]);
      return;
    }

    // §16.4: Route information preprocessing.
    const routedByUs = this.preprocessRoutes(r);
    const inDialog = r.to?.tag != null;

    if (inDialog) {
      if (!routedByUs) {
        // Not a dialog we record-routed: refuse rather than relay for anyone (routing.md).
        this.respond(tx, r, 404, "Not Here");
        return;
      }
      const dest = this.nextHop(r);
      if (dest === null) {
        this.respond(tx, r, 416, "Unsupported URI Scheme");
        return;
      }
      if (r.method === "BYE") {
        const by = this.dialogs.ended(r.callId ?? "", r.from?.tag ?? null);
        if (by !== null)
          this.events.emit({ type: "ended", by, callId: r.callId ?? "", at: this.clock.now() });
      }
      // §16.2: a re-INVITE gets its 100 Trying hop by hop like any INVITE.
      if (r.method === "INVITE") this.respond(tx, r, 100, "Trying");
      r.decrementMaxForwards();
      this.startCall(r, source, tx, context, { kind: "in-dialog", destination: dest });
      return;
    }

    if (!KNOWN_METHODS.has(r.method)) {
      this.respond(tx, r, 501, "Not Implemented", [["Allow", ALLOW]]);
      return;
    }
    if (DIALOG_ONLY.has(r.method)) {
      this.respond(tx, r, 481, "Call/Transaction Does Not Exist");
      return;
    }
    const toProxy = this.addressedToProxy(r);
    if ((r.method === "PUBLISH" || r.method === "SUBSCRIBE") && toProxy && r.routes.length === 0) {
      this.respond(tx, r, 405, "Method Not Allowed", [["Allow", ALLOW]]);
      return;
    }
    if (r.method === "INVITE") {
      if (this.draining) {
        this.respond(tx, r, 503, "Service Unavailable", [["Retry-After", "30"]]);
        return;
      }
      // §16.2 / §17.2.1: a stateful proxy answers an INVITE with 100 Trying at once.
      this.respond(tx, r, 100, "Trying");
    }
    this.route(r, source, tx, context, toProxy);
  }

  private route(
    r: SipRequest,
    source: MessageSource,
    tx: ServerTx,
    context: InviteContext,
    toProxy: boolean,
  ): void {
    const view = inboundRequestView(
      r,
      { address: source.address, port: source.port, transport: source.transport },
      toProxy,
    );
    const onDecision = (decision: RoutingDecision) => {
      if (context.cancelled || tx.finalSent) return;
      if (decision.kind === "respond") {
        const headers = [...(decision.headers ?? [])];
        if (r.method === "OPTIONS" && toProxy && decision.status < 300) {
          for (const h of this.capabilityHeaders())
            if (!headers.some(([n]) => n.toLowerCase() === h[0].toLowerCase())) headers.push(h);
        }
        this.respond(tx, r, decision.status, decision.reason, headers);
        if (r.method === "INVITE") {
          this.events.emit({
            type: "received",
            method: r.method,
            call: null,
            callId: r.callId ?? "",
            at: this.clock.now(),
          });
          if (decision.status >= 300)
            this.events.emit({
              type: "rejected",
              status: decision.status,
              reason: decision.reason,
              callId: r.callId ?? "",
              at: this.clock.now(),
            });
        }
        return;
      }
      r.decrementMaxForwards();
      this.startCall(r, source, tx, context, {
        kind: "routed",
        steps: decision.steps,
        headerEdits: decision.headerEdits,
        call: decision.call,
      });
    };
    const onError = (err: unknown) => {
      this.log.error(
        { err: err instanceof Error ? err.message : String(err), callId: r.callId },
        "router failed",
      );
      if (!tx.finalSent) this.respond(tx, r, 500, "Server Internal Error");
    };
    try {
      const d = this.router.route(view);
      if (d instanceof Promise) d.then(onDecision, onError);
      else onDecision(d);
    } catch (err) {
      onError(err);
    }
  }

  private startCall(
    r: SipRequest,
    source: MessageSource,
    tx: ServerTx,
    context: InviteContext,
    plan: ForwardPlan,
  ): void {
    const call = new ProxyCall(this.ctx, r, source.transport, tx, plan);
    context.call = call;
    this.activeCalls++;
    call.start();
  }

  /** §16.10: CANCEL: 200 to the CANCEL, and the INVITE's response context is cancelled. */
  private onCancel(
    r: SipRequest,
    source: MessageSource,
    replyTo: Destination,
    key: string,
    inviteKey: string,
  ): void {
    const tx = this.createServerTx(r, source, replyTo, key, null);
    const invite = this.layer.findServer(inviteKey);
    const context = this.inviteContexts.get(inviteKey);
    if (!(invite instanceof InviteServerTransaction) || context === undefined) {
      this.respond(tx, r, 481, "Call/Transaction Does Not Exist");
      return;
    }
    this.respond(tx, r, 200, "OK");
    if (invite.finalSent) return;
    if (context.call !== null) {
      context.call.cancelByCaller();
    } else {
      // The router has not decided yet: nothing was forwarded, answer 487 ourselves.
      context.cancelled = true;
      this.events.emit({ type: "cancelled", callId: r.callId ?? "", at: this.clock.now() });
      invite.respond(487, createResponse(context.request, 487, "Request Terminated").serialize());
    }
  }

  private onResponse(res: SipResponse): void {
    const via = res.topVia;
    // §18.1.2: a response whose top Via is not ours is discarded.
    if (via === undefined || !this.isOurs(via.host, via.port) || via.branch === null) return;
    const method = res.cseq?.method ?? "";
    const tx = this.layer.findClient(clientTransactionKey(via.branch, method));
    if (tx !== undefined) {
      tx.receiveResponse(res);
      return;
    }
    // §16.7 / RFC 6026: a 2xx to an INVITE with no transaction left is forwarded statelessly.
    if (res.status >= 200 && res.status < 300 && method === "INVITE") {
      const copy = res.clone();
      copy.popVia();
      this.forwardResponseStatelessly(copy);
    }
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private createServerTx(
    r: SipRequest,
    source: MessageSource,
    replyTo: Destination,
    key: string,
    context: InviteContext | null,
  ): ServerTx {
    const channel: TransactionChannel = {
      reliable: source.transport !== "udp",
      send: (data, onError) => this.transport.reply(source, replyTo, data, onError),
    };
    const user = {
      onTerminated: () => {
        this.layer.removeServer(tx);
        if (r.method === "INVITE") this.inviteContexts.delete(key);
        context?.call?.serverTerminated();
        this.checkIdle();
      },
      onTransportError: (err: Error) => this.log.debug({ err: err.message }, "cannot send a response"),
    };
    const tx: ServerTx =
      r.method === "INVITE"
        ? new InviteServerTransaction({
            key,
            channel,
            timers: this.timers,
            timerService: this.timerService,
            user,
          })
        : new NonInviteServerTransaction({
            key,
            channel,
            timers: this.timers,
            timerService: this.timerService,
            user,
          });
    this.layer.addServer(tx);
    if (r.method === "INVITE" && context !== null) this.inviteContexts.set(key, context);
    return tx;
  }

  private respond(
    tx: ServerTx,
    r: SipRequest,
    status: number,
    reason: string,
    headers: readonly (readonly [string, string])[] = [],
  ): void {
    let response: SipResponse;
    try {
      response = createResponse(r, status, reason, { headers });
    } catch (err) {
      this.log.error({ err: (err as Error).message, status }, "cannot build a response (router headers?)");
      response = createResponse(r, 500, "Server Internal Error");
      status = 500;
    }
    tx.respond(status, response.serialize());
  }

  private capabilityHeaders(): [string, string][] {
    return [
      ["Allow", ALLOW],
      ["Accept", "application/sdp"],
      ["Supported", ""],
    ];
  }

  /** RFC 3581 §4 / RFC 3261 §18.2.1: record where the request really came from in its top Via. */
  private annotateVia(r: SipRequest, via: ViaHop, source: MessageSource): void {
    const needRport = via.hasRport && via.rport === null;
    const needReceived =
      via.received === null && (needRport || normalizeHost(via.host) !== normalizeHost(source.address));
    if (!needRport && !needReceived) return;
    let value = via.raw.trim();
    if (needRport) value = value.replace(/;\s*rport(?=\s*(;|$))/i, `;rport=${source.port}`);
    if (needReceived) value += `;received=${source.address}`;
    r.popVia();
    r.pushVia(value);
  }

  private isLooped(r: SipRequest): boolean {
    let hash: string | null = null;
    for (const hop of r.viaHops ?? []) {
      if (!this.isOurs(hop.host, hop.port)) continue;
      const theirs = loopHashOfBranch(hop.branch);
      if (theirs === null) continue;
      hash ??= loopHash(r);
      if (theirs === hash) return true;
    }
    return false;
  }

  /**
   * §16.4: if the Request-URI is a URI we put in a Record-Route (a strict router before us),
   * the last Route becomes the Request-URI; then our own Route values on top are removed.
   * Returns whether one of our Route values was removed (the request was routed through us).
   */
  private preprocessRoutes(r: SipRequest): boolean {
    let routedByUs = false;
    const uri = r.uri;
    const routes = r.routes;
    if (uri?.kind === "sip" && uri.user === null && this.isOurs(uri.host, uri.port) && routes.length > 0) {
      const values = r.headers("route");
      const last = routes[routes.length - 1]!;
      r.removeHeader("Route");
      for (const v of values.slice(0, -1)) r.addHeader("Route", v);
      r.setRequestUri(last.uriText);
      routedByUs = true;
    }
    for (let i = 0; i < 2; i++) {
      const top = r.routes[0];
      if (top === undefined || top.uri.kind !== "sip" || !this.isOurs(top.uri.host, top.uri.port)) break;
      r.removeFirstRoute();
      routedByUs = true;
    }
    return routedByUs;
  }

  /** §16.12 / RFC 3263 (no DNS here): the first Route if any, else the Request-URI. */
  private nextHop(r: SipRequest): Destination | null {
    const top = r.routes[0];
    const uri = top !== undefined ? top.uri : r.uri;
    if (uri === undefined || uri.kind !== "sip") return null;
    const transportParam = (uri.params.get("transport") ?? "").toLowerCase();
    const transport =
      uri.scheme === "sips" || transportParam === "tcp" || transportParam === "tls" ? "tcp" : "udp";
    const host = stripBrackets(uri.params.get("maddr") ?? uri.host);
    return { host, port: uri.port ?? (uri.scheme === "sips" ? 5061 : 5060), transport };
  }

  /** §16.11: an ACK for a 2xx is forwarded statelessly along the Route set, with a branch derived from its own. */
  private forwardAckStatelessly(r: SipRequest): void {
    if (r.maxForwards === 0) return;
    if (!this.preprocessRoutes(r)) return;
    const dest = this.nextHop(r);
    if (dest === null) return;
    const local = this.transport.localFor(dest);
    if (local === null) return;
    r.decrementMaxForwards();
    const top = r.topVia;
    const seed = `${top?.branch ?? ""}|${top?.host ?? ""}|${top?.port ?? ""}|${r.callId ?? ""}`;
    const branch = `${MAGIC_COOKIE}dgs${fnv1a(seed).toString(16)}${fnv1a(seed, 0x12345678).toString(16)}`;
    r.pushVia(`SIP/2.0/${viaTransportName(dest.transport)} ${this.sentByFor(local)};branch=${branch};rport`);
    if (dest.transport !== "udp") r.ensureContentLength();
    this.transport.send(dest, r.serialize(), (err) => this.log.debug({ err: err.message }, "ACK not sent"));
  }

  /** Sends a response by its top Via (§18.2.2, RFC 3581 §5), without a transaction. */
  forwardResponseStatelessly(response: SipResponse): void {
    const via = response.topVia;
    if (via === undefined) return;
    const transport = via.transport === "UDP" ? "udp" : "tcp";
    const dest: Destination = {
      host: stripBrackets(via.received ?? via.host),
      port: via.rport ?? via.port ?? 5060,
      transport,
    };
    this.transport.send(dest, response.serialize(), (err) =>
      this.log.debug({ err: err.message }, "response not sent"),
    );
  }

  private sendStateless(via: ViaHop | undefined, source: MessageSource, data: Buffer): void {
    const dest =
      via === undefined
        ? { host: source.address, port: source.port, transport: source.transport }
        : responseDestination(via, source);
    this.transport.reply(source, dest, data, () => {});
  }

  private addressedToProxy(r: SipRequest): boolean {
    const uri = r.uri;
    return uri?.kind === "sip" && this.isOurs(uri.host, uri.port);
  }

  private isOurs(host: string, port: number | null): boolean {
    return this.ourHosts.has(normalizeHost(host)) && this.ourPorts.has(port ?? 5060);
  }

  private channelTo(dest: Destination): TransactionChannel {
    return {
      reliable: dest.transport !== "udp",
      send: (data, onError) => this.transport.send(dest, data, onError),
    };
  }

  private sentByFor(local: ListenAddress): string {
    const host = local.host === "0.0.0.0" || local.host === "::" ? this.settings.recordRouteHost : local.host;
    return `${hostForUri(host)}:${local.port}`;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private isIdle(): boolean {
    return this.activeCalls === 0 && this.dialogs.count === 0;
  }

  private makeContext(): ProxyContext {
    return {
      timers: this.timers,
      timerService: this.timerService,
      timerCMs: this.settings.timers.timerCMs,
      logger: this.log,
      now: () => this.clock.now(),
      emit: (e) => this.events.emit(e),
      channelTo: (dest) => this.channelTo(dest),
      localFor: (dest) => this.transport.localFor(dest),
      newBranch: (request) =>
        `${BRANCH_PREFIX}${loopHash(request)}.${this.branchSalt}${(this.branchCounter++).toString(36)}`,
      recordRouteFor: (local) => {
        const key = `${local.transport}:${local.port}`;
        let rr = this.recordRoutes.get(key);
        if (rr === undefined) {
          rr = `<sip:${hostForUri(this.settings.recordRouteHost)}:${local.port}${local.transport === "tcp" ? ";transport=tcp" : ""};lr>`;
          this.recordRoutes.set(key, rr);
        }
        return rr;
      },
      sentByFor: (local) => this.sentByFor(local),
      registerClient: (tx) => this.layer.addClient(tx),
      unregisterClient: (tx) => this.layer.removeClient(tx),
      forwardResponseStatelessly: (response) => this.forwardResponseStatelessly(response),
      callFinished: () => {
        this.activeCalls--;
        this.checkIdle();
      },
      dialogConfirmed: (request, _response) => {
        this.dialogs.confirmed(request.callId ?? "", request.from?.tag ?? null, this.clock.now());
      },
    };
  }
}

/**
 * §18.2.2 with RFC 3581: responses go to the source address, to the source port when rport was
 * asked for. Over TCP the response goes back on the request's connection; this destination is
 * only used when that connection is gone: a new one to the source address and sent-by port.
 */
function responseDestination(via: ViaHop, source: MessageSource): Destination {
  if (source.transport !== "udp")
    return { host: source.address, port: via.port ?? 5060, transport: source.transport };
  return { host: source.address, port: via.hasRport ? source.port : (via.port ?? 5060), transport: "udp" };
}

function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function normalizeHost(host: string): string {
  return stripBrackets(host).toLowerCase();
}

/** IPv6 literals go in brackets in URIs and Via sent-by (§19.1.1, §25.1). */
function hostForUri(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
