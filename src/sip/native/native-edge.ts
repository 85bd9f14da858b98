// The native SIP edge (architecture.md): an RFC 3261 stateful, record-routing proxy in process.
// It owns the transports and transaction tables, classifies every inbound message, hands new
// dialog-creating and out-of-dialog requests to the router, and runs a ProxyCall (response
// context) per forwarded request. In-dialog requests are loose-routed without the router.
// The concerns around that live in their own modules: transport dispatch (inbound-dispatch),
// server transactions (server-transactions), CANCEL (cancel-handling), stateless ACK and
// response forwarding (stateless-forwarder), §16.3/§16.4 checks (request-checks,
// route-preprocessing), drain (drain-gate) and gateway OPTIONS (options-prober).
import { randomBytes } from "node:crypto";
import type { CallRecordDurability } from "../../calls/call-recorder.js";
import { CallEventBus } from "../../calls/events.js";
import type { QualityReportPort } from "../../calls/quality-reports.js";
import type { SipSettings } from "../../config/schema.js";
import type { CallRouter, OutboundRequester, RouteTarget, RoutingDecision } from "../../routing/decision.js";
import { NetworkSet } from "../../routing/ip-networks.js";
import type { TrustedSources } from "../../routing/trusted-sources.js";
import { type Clock, systemClock } from "../../util/clock.js";
import { type Logger, silentLogger } from "../../util/logger.js";
import { ownCopy } from "../../util/own-copy.js";
import { createResponse, type SipRequest, type SipResponse, type ViaHop } from "../index.js";
import { AcceptedWindow, retireIntoWindow } from "./accepted-window.js";
import { AdmissionControl, backlogLimitFor, EventLoopProbe, type LoadProbe } from "./admission-control.js";
import { upstreamCopy } from "./caller-view.js";
import { handleCancel } from "./cancel-handling.js";
import { CompletedRequests } from "./completed-requests.js";
import { DialogTracker } from "./dialog-tracker.js";
import { DrainGate } from "./drain-gate.js";
import { LocalIdentity, responseDestination } from "./edge-addressing.js";
import { EdgeTls } from "./edge-tls.js";
import { InboundDispatch } from "./inbound-dispatch.js";
import { inboundRequestView } from "./inbound-request-view.js";
import { InviteServerState, InviteServerTransaction } from "./invite-server-transaction.js";
import { type ProtectionStats, SourceProtection } from "./limits.js";
import { BRANCH_PREFIX, loopHash } from "./loop-detection.js";
import { sendOptions } from "./options-prober.js";
import { type ForwardPlan, ProxyCall } from "./proxy-call.js";
import type { ClientTx, ProxyContext } from "./proxy-context.js";
import { publishToProxy, rtpStatsOf } from "./quality-handover.js";
import { capabilityHeaders, refuseOutOfDialog, validateForProxying } from "./request-checks.js";
import { addressedToProxy, annotateVia, nextHop, preprocessRoutes } from "./route-preprocessing.js";
import { type InviteContext, ServerTransactions } from "./server-transactions.js";
import type { ServerTx } from "./server-tx.js";
import { ShedMemory } from "./shed-memory.js";
import type { SipTrafficObserver } from "./sip-traffic-observer.js";
import { StatelessForwarder } from "./stateless-forwarder.js";
import { SystemTimerService, type TimerService } from "./timer-service.js";
import type { TlsCredentials, TlsSettings } from "./tls-transport.js";
import { clientTransactionKey, serverTransactionKey } from "./transaction-key.js";
import { TransactionLayer } from "./transaction-layer.js";
import { TransactionTimers } from "./transaction-timers.js";
import type { TransactionChannel } from "./transaction-user.js";
import { TransportLayer } from "./transport-layer.js";
import type { Destination, EdgeWorkerRole, ListenAddress, MessageSource } from "./transport-types.js";
import { readUdpBacklog } from "./udp-backlog.js";
import { REQUESTED_RECEIVE_BUFFER_BYTES, type UdpTransport } from "./udp-transport.js";

export interface NativeEdgeOptions {
  readonly settings: SipSettings;
  readonly router: CallRouter;
  readonly events?: CallEventBus;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Timers for transactions and proxy contexts (tests inject a manual one). */
  readonly timerService?: TimerService;
  /** Where PUBLISH addressed to the proxy goes (RFC 6035 quality reports); absent: 405. */
  readonly qualityReports?: QualityReportPort;
  /** The call recorder: a BYE's 200 is forwarded once the call's CDR is durable. */
  readonly callRecords?: CallRecordDurability;
  /** Counts of received SIP messages and parse errors (metrics). */
  readonly observer?: SipTrafficObserver;
  /** Sources exempt from flood and connection limits (default: sip.flood.allow only). */
  readonly trustedSources?: TrustedSources;
  /** The load signal admission control reads (default: the event loop's utilisation). */
  readonly loadProbe?: LoadProbe;
  /** Which of the calls admission control refuses, when it refuses a share of them. */
  readonly random?: () => number;
  /** Set in a worker process of `dialgate serve` with `sip.workers` > 1 (src/cluster). */
  readonly worker?: EdgeWorkerRole;
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
  private readonly servers: ServerTransactions;
  private readonly dialogs = new DialogTracker();
  private readonly us: LocalIdentity;
  private readonly stateless: StatelessForwarder;
  private readonly drainGate: DrainGate;
  private readonly admission: AdmissionControl;
  private readonly shed: ShedMemory;
  private readonly accepted: AcceptedWindow;
  /** Non-INVITE server transactions in Completed (Timer J), kept small. */
  private readonly completed: CompletedRequests;
  private readonly branchSalt = randomBytes(4).toString("hex");
  private readonly ctx: ProxyContext;
  private branchCounter = 0;
  private activeCalls = 0;
  private readonly qualityReports: QualityReportPort | undefined;
  private readonly callRecords: CallRecordDurability | undefined;
  private readonly protection: SourceProtection;
  private readonly worker: EdgeWorkerRole | undefined;
  private readonly tls: EdgeTls;

  constructor(options: NativeEdgeOptions) {
    this.settings = options.settings;
    this.worker = options.worker;
    this.qualityReports = options.qualityReports;
    this.callRecords = options.callRecords;
    this.router = options.router;
    this.events = options.events ?? new CallEventBus();
    this.log = (options.logger ?? silentLogger()).child({ component: "sip" });
    this.clock = options.clock ?? systemClock;
    this.timerService = options.timerService ?? new SystemTimerService();
    this.timers = new TransactionTimers(this.settings.timers);
    this.us = new LocalIdentity(this.settings.recordRouteHost);
    this.tls = new EdgeTls(this.settings, this.log, this.clock);
    const limits = this.settings.limits;
    const dispatch = new InboundDispatch(
      this.settings.maxMessageBytes,
      this,
      () => this.stateless,
      this.log,
      options.observer,
      limits.maxHeaders,
    );
    // Flood guard and connection limits sit in front of dispatch (limits.ts).
    this.protection = new SourceProtection(
      dispatch,
      this.settings,
      options.trustedSources ?? defaultTrusted(this.settings),
      () => this.clock.now(),
      this.log,
    );
    this.transport = new TransportLayer(this.protection, this.settings.maxMessageBytes, {
      idleTimeoutMs: limits.idleConnectionSeconds * 1000,
      maxHeaders: limits.maxHeaders,
    });
    this.stateless = new StatelessForwarder(this.transport, this.us, this.log);
    this.drainGate = new DrainGate(() => this.activeCalls === 0 && this.dialogs.count === 0);
    this.completed = new CompletedRequests(this.timerService, this.timers.j(false), this.log);
    this.servers = new ServerTransactions({
      layer: this.layer,
      transport: this.transport,
      timers: this.timers,
      timerService: this.timerService,
      log: this.log,
      onTerminated: () => this.drainGate.check(),
      completed: this.completed,
    });
    this.admission = new AdmissionControl(
      this.settings.overload,
      options.loadProbe ??
        new EventLoopProbe(
          () => readUdpBacklog(this.udpPorts()),
          () => this.transport.udp.datagramsReceived,
        ),
      options.random,
    );
    this.shed = new ShedMemory(this.timers.b);
    this.accepted = new AcceptedWindow(this.timerService, Math.max(this.timers.l, this.timers.m), this.log);
    this.ctx = this.makeContext();
  }

  /** Binds every configured listen address; returns them with the ports actually bound. */
  async start(): Promise<readonly ListenAddress[]> {
    this.transport.enableTls(await this.tls.start());
    const bound = this.worker
      ? await this.listenAsWorker(this.worker)
      : await this.transport.listen(this.settings.listen);
    this.us.learn(bound);
    this.sizeBacklogLimit();
    this.logSendPath();
    this.admission.start();
    return bound;
  }

  /**
   * Admission control's queue limit follows the receive buffers the kernel actually gave the UDP
   * sockets; a buffer below what was asked for is logged with the setting that caps it.
   */
  private sizeBacklogLimit(): void {
    const buffer = this.transport.udp.receiveBufferBytes;
    if (buffer === null) return;
    const limit = backlogLimitFor(buffer);
    this.admission.setBacklogLimit(limit);
    if (this.transport.udp.receiveBufferCapped)
      this.log.warn(
        {
          receiveBufferBytes: buffer,
          requestedBytes: REQUESTED_RECEIVE_BUFFER_BYTES,
          backlogLimitBytes: limit,
        },
        "the SIP UDP receive buffer is smaller than asked for (net.core.rmem_max caps it): bursts past it are dropped by the kernel; raise net.core.rmem_max to at least 4194304",
      );
  }

  /** Which UDP send path runs (README, "Batched UDP sends"): an operator should know it fell back. */
  private logSendPath(): void {
    const messages = {
      off: "UDP sends go one datagram per system call (the native batch sender is not built or DIALGATE_UDP_BATCH=off)",
      auto: "UDP sends are batched under load: one sendmmsg per socket and event-loop turn while the event loop is busy half the time or more",
      always:
        "UDP sends are batched whatever the load (DIALGATE_UDP_BATCH=always): one sendmmsg per socket and event-loop turn",
    };
    this.log.info(messages[this.transport.udp.batchState.mode]);
  }

  get listenAddresses(): readonly ListenAddress[] {
    return this.transport.listenAddresses;
  }

  /** The ports of the UDP sockets (admission control reads their receive backlog). */
  private udpPorts(): number[] {
    return this.transport.listenAddresses.filter((a) => a.transport === "udp").map((a) => a.port);
  }

  /**
   * A worker binds its own port per listen address first (the first address of a family is the
   * one messages leave from, so its Via and Record-Route name the own port), then the shared
   * configured ports, once the siblings' own ports are known for the dispatch.
   */
  private async listenAsWorker(role: EdgeWorkerRole): Promise<readonly ListenAddress[]> {
    const own: ListenAddress[] = [];
    for (const [i, a] of this.settings.listen.entries()) {
      const wanted = role.ownPort(i);
      const bind = (port: number) => this.transport.listen([{ ...a, port }], () => ({ exclusive: true }));
      try {
        own.push(...(await bind(wanted.port)));
      } catch (err) {
        if (wanted.required || wanted.port === 0) throw err;
        this.log.warn({ port: wanted.port, err: (err as Error).message }, "own port taken: binding another");
        own.push(...(await bind(0)));
      }
    }
    const dispatch = await role.join(own);
    this.transport.udp.setDispatch(dispatch);
    const shared = await this.transport.listen(this.settings.listen, () => ({ shared: true }));
    return [...own, ...shared];
  }

  /**
   * RFC 5923 §5: a TLS peer that asks for connection reuse (`;alias` in its Via) gets requests
   * to its sent-by on this connection, but only when its verified certificate names the sent-by
   * host (mutual TLS); otherwise anyone could capture traffic meant for another host.
   */
  private aliasConnection(via: ViaHop, source: MessageSource): void {
    const host = via.host.toLowerCase();
    if (source.connectionId === null || !source.peerNames?.includes(host)) return;
    const port = via.port ?? 5061;
    this.transport.aliasTls(source.connectionId, host, port);
    this.transport.aliasTls(source.connectionId, source.address, port);
  }

  /** Flood and limit counters (bans, drops, refused connections) for metrics. */
  get protectionStats(): ProtectionStats {
    return this.protection.stats;
  }

  /** Reload: new flood/limit settings and allow list; bans in force are kept. */
  updateProtection(settings: SipSettings, trusted: TrustedSources): void {
    this.protection.update(settings, trusted);
  }

  /** Reload: admission control's target, Retry-After and on/off (`sip.overload`). */
  updateOverload(settings: SipSettings["overload"]): void {
    this.admission.reconfigure(settings);
  }

  /** The allow list changed (DNS answer, routing version): counts and bans in force are kept. */
  updateTrustedSources(trusted: TrustedSources): void {
    this.protection.retrust(trusted);
  }

  /** SIGHUP: new TLS credentials for new handshakes (edge-tls.ts); throws and keeps the old ones on a bad file. */
  reloadTls(settings: TlsSettings, creds?: TlsCredentials): Promise<void> {
    return this.tls.reload(settings, creds);
  }

  /** Admission control: the share of new calls refused now, and how many were (metrics). */
  get overload(): AdmissionControl["state"] {
    return this.admission.state;
  }

  /** Batched UDP sends (README, "Batched UDP sends"): the mode, on now, and datagrams so sent. */
  get udpBatching(): UdpTransport["batchState"] {
    return this.transport.udp.batchState;
  }

  get stats(): NativeEdgeStats {
    return {
      // An Accepted window entry stands for one INVITE server and one client transaction.
      serverTransactions: this.layer.serverCount + this.accepted.size + this.completed.size,
      clientTransactions: this.layer.clientCount + this.accepted.size,
      calls: this.activeCalls,
      dialogs: this.dialogs.count,
      timers: this.timerService.activeCount,
      tcpConnections: this.transport.connectionCount,
    };
  }

  /**
   * Stops taking new INVITEs (503 + Retry-After) and waits until calls in progress are over
   * (no response context, no confirmed dialog) or `timeoutMs` passes. Resolves true when idle.
   */
  drain(timeoutMs: number): Promise<boolean> {
    return this.drainGate.drain(timeoutMs);
  }

  /**
   * Forgets an answered dialog whose BYE never came (the recorder's maximum call duration), so
   * that it no longer counts towards drain and the dialog count. A BYE that still comes later is
   * loose-routed as before.
   */
  forgetDialog(callId: string): void {
    if (this.dialogs.forget(callId)) this.drainGate.check();
  }

  /** Terminates every transaction, closes the sockets. */
  async stop(): Promise<void> {
    this.drainGate.close();
    this.admission.stop();
    this.layer.terminateAll();
    this.servers.clear();
    this.accepted.clear();
    this.completed.clear();
    this.dialogs.clear();
    if (this.timerService instanceof SystemTimerService) this.timerService.clearAll();
    await this.transport.close();
  }

  /** An OPTIONS to a gateway (routing.md health checks); resolves with the final status, or null. */
  sendOptions(target: RouteTarget["destination"], requestUri: string): Promise<number | null> {
    return sendOptions(
      { ctx: this.ctx, transport: this.transport, layer: this.layer, fromHost: this.us.uriHost },
      target,
      requestUri,
    );
  }

  /** Sends a response by its top Via (§18.2.2, RFC 3581 §5), without a transaction. */
  forwardResponseStatelessly(response: SipResponse): void {
    this.stateless.forwardResponse(response);
  }

  // ---- inbound (called by InboundDispatch) -----------------------------------------------------

  onRequest(r: SipRequest, source: MessageSource): void {
    if (this.protection.refuseRequest(r, source)) return;
    const via = r.topVia!;
    if (source.peerNames !== undefined && via.params.has("alias")) this.aliasConnection(via, source);
    const replyTo = responseDestination(via, source);
    annotateVia(r, via, source);
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
      const tx = this.servers.find(serverTransactionKey(keyFields));
      if (
        tx instanceof InviteServerTransaction &&
        (tx.currentState === InviteServerState.Completed || tx.currentState === InviteServerState.Confirmed)
      ) {
        // §17.2.1: the ACK for a non-2xx final belongs to the INVITE transaction: absorbed.
        tx.receiveAck();
        return;
      }
      this.stateless.forwardAck(r);
      return;
    }

    // §17.2.3: a retransmission goes to its server transaction.
    const key = serverTransactionKey(keyFields);
    const existing = this.servers.find(key);
    if (existing !== undefined) {
      if (existing instanceof InviteServerTransaction) existing.receiveInvite();
      else existing.receiveRequest();
      return;
    }
    // RFC 6026 §7.1: an answered INVITE's retransmissions are absorbed for Timer L.
    if (r.method === "INVITE" && this.accepted.hasServer(key)) return;
    // §17.2.2: a completed non-INVITE's retransmissions get its final response (Timer J).
    if (r.method !== "INVITE" && this.completed.answerRetransmission(key)) return;

    if (r.method === "CANCEL") {
      const deps = {
        servers: this.servers,
        answered: (inviteKey: string) => this.accepted.hasServer(inviteKey),
        emit: this.ctx.emit,
        now: this.ctx.now,
      };
      handleCancel(deps, r, source, replyTo, key, serverTransactionKey(keyFields, "INVITE"));
      return;
    }

    // Overload: a new call is refused before any state is made for it (admission-control.ts).
    if (r.method === "INVITE" && r.to?.tag == null && this.shouldShed(key)) {
      const headers: [string, string][] = [["Retry-After", this.admission.retryAfter]];
      this.stateless.reply(
        via,
        source,
        createResponse(r, 503, "Service Unavailable", { headers }).serialize(),
      );
      return;
    }

    const context: InviteContext = { request: r, call: null, cancelled: false };
    // Only an INVITE's transaction needs its context (CANCEL, the call's end): a non-INVITE's
    // lingers 64*T1 after its final (Timer J) and must not keep the request or the call that long.
    const tx = this.servers.create(r, source, replyTo, key, r.method === "INVITE" ? context : null);
    if (this.refuse(tx, r, validateForProxying(r, this.us))) return;

    // §16.4: Route information preprocessing.
    const routedByUs = preprocessRoutes(r, this.us);
    if (r.to?.tag != null) {
      this.forwardInDialog(r, source, tx, context, routedByUs);
      return;
    }

    const toProxy = addressedToProxy(r, this.us);
    if (this.refuse(tx, r, publishToProxy(r, source, toProxy, this.qualityReports))) return;
    if (this.refuse(tx, r, refuseOutOfDialog(r, toProxy))) return;
    if (r.method === "INVITE") {
      if (this.drainGate.draining) {
        this.servers.respond(tx, r, 503, "Service Unavailable", [["Retry-After", "30"]]);
        return;
      }
      // §16.2 / §17.2.1: a stateful proxy answers an INVITE with 100 Trying at once.
      this.servers.respond(tx, r, 100, "Trying");
    }
    this.route(r, source, tx, context, toProxy);
  }

  onResponse(res: SipResponse): void {
    const via = res.topVia;
    // §18.1.2: a response whose top Via is not ours is discarded.
    if (via === undefined || !this.us.isOurVia(via) || via.branch === null) return;
    const method = res.cseq?.method ?? "";
    const key = clientTransactionKey(via.branch, method);
    const tx = this.layer.findClient(key);
    if (tx !== undefined) {
      tx.receiveResponse(res);
      return;
    }
    const accepted = this.accepted.findClient(key);
    if (accepted !== undefined) {
      // RFC 6026 §7.2: a 2xx retransmission in Timer M goes upstream like the first one;
      // anything else is absorbed, as the Accepted client transaction would.
      if (res.status >= 200 && res.status < 300) this.accepted.relay(accepted, res);
      return;
    }
    // §16.7 / RFC 6026: a 2xx to an INVITE with no transaction left is forwarded statelessly.
    // Anything else is dropped: for a non-INVITE that ended at its final (proxy-branch.ts
    // endAtFinal) this is Timer K's absorption of retransmitted responses.
    if (res.status >= 200 && res.status < 300 && method === "INVITE")
      this.stateless.forwardResponse(upstreamCopy(res, null));
  }

  // ---- request handling --------------------------------------------------------------------------

  /** A new INVITE admission control refuses now, or one it refused before (shed-memory.ts). */
  private shouldShed(key: string): boolean {
    const now = this.clock.monotonic();
    if (!this.shed.has(key, now) && this.admission.admit()) return false;
    this.shed.remember(key, now);
    return true;
  }

  private refuse(tx: ServerTx, r: SipRequest, refusal: ReturnType<typeof refuseOutOfDialog>): boolean {
    if (refusal === null) return false;
    this.servers.respond(tx, r, refusal.status, refusal.reason, refusal.headers);
    return true;
  }

  private forwardInDialog(
    r: SipRequest,
    source: MessageSource,
    tx: ServerTx,
    context: InviteContext,
    routedByUs: boolean,
  ): void {
    if (!routedByUs) {
      // Not a dialog we record-routed: refuse rather than relay for anyone (routing.md).
      this.servers.respond(tx, r, 404, "Not Here");
      return;
    }
    const dest = nextHop(r);
    if (dest === null) {
      this.servers.respond(tx, r, 416, "Unsupported URI Scheme");
      return;
    }
    if (r.method === "BYE") {
      const by = this.dialogs.ended(r.callId ?? "", r.from?.tag ?? null);
      if (by !== null)
        this.events.emit({
          type: "ended",
          by,
          callId: r.callId ?? "",
          at: this.clock.now(),
          ...rtpStatsOf(r),
        });
    }
    // §16.2: a re-INVITE gets its 100 Trying hop by hop like any INVITE.
    if (r.method === "INVITE") this.servers.respond(tx, r, 100, "Trying");
    r.decrementMaxForwards();
    this.startCall(r, source, tx, context, { kind: "in-dialog", destination: dest });
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
      {
        address: source.address,
        port: source.port,
        transport: source.transport,
        ...(source.peerNames ? { certificateNames: source.peerNames } : {}),
      },
      toProxy,
    );
    // The CDR's inviteDateTime is when the INVITE reached us, not when the router answered.
    const receivedAt = this.clock.now();
    const onDecision = (decision: RoutingDecision) => {
      if (context.cancelled || tx.finalSent) return;
      if (decision.kind === "respond") {
        this.answerForRouter(r, tx, decision, toProxy, receivedAt);
        return;
      }
      r.decrementMaxForwards();
      this.startCall(r, source, tx, context, {
        kind: "routed",
        steps: decision.steps,
        headerEdits: decision.headerEdits,
        call: decision.call,
        receivedAt,
      });
    };
    const onError = (err: unknown) => {
      this.log.error(
        { err: err instanceof Error ? err.message : String(err), callId: r.callId },
        "router failed",
      );
      if (!tx.finalSent) this.servers.respond(tx, r, 500, "Server Internal Error");
    };
    try {
      const d = this.router.route(view);
      if (d instanceof Promise) d.then(onDecision, onError);
      else onDecision(d);
    } catch (err) {
      onError(err);
    }
  }

  /** The router answered the request itself (registrar, OPTIONS to us, rejection). */
  private answerForRouter(
    r: SipRequest,
    tx: ServerTx,
    decision: Extract<RoutingDecision, { kind: "respond" }>,
    toProxy: boolean,
    receivedAt: number,
  ): void {
    const headers = [...(decision.headers ?? [])];
    if (r.method === "OPTIONS" && toProxy && decision.status < 300) {
      for (const h of capabilityHeaders())
        if (!headers.some(([n]) => n.toLowerCase() === h[0].toLowerCase())) headers.push(h);
    }
    this.servers.respond(tx, r, decision.status, decision.reason, headers);
    if (r.method !== "INVITE") return;
    const callId = r.callId ?? "";
    const call = decision.call ?? null;
    this.events.emit({ type: "received", method: r.method, call, callId, at: receivedAt });
    if (decision.status >= 300)
      this.events.emit({
        type: "rejected",
        status: decision.status,
        reason: decision.reason,
        callId,
        at: this.clock.now(),
      });
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
    // From now on the call holds the request (and lets it go once settled): the context, which
    // lives as long as the server transaction, does not keep it too.
    context.request = null;
    this.activeCalls++;
    call.start();
  }

  private channelTo(dest: Destination): TransactionChannel {
    return {
      reliable: dest.transport !== "udp",
      send: (data, onError) => this.transport.send(dest, data, onError),
    };
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
      recordRouteFor: (local, sips) => this.us.recordRouteFor(local, sips),
      sentByFor: (local) => this.us.sentByFor(local),
      registerClient: (tx) => this.layer.addClient(tx),
      unregisterClient: (tx) => this.layer.removeClient(tx),
      forwardResponseStatelessly: (response) => this.stateless.forwardResponse(response),
      callFinished: () => {
        this.activeCalls--;
        this.drainGate.check();
      },
      callRecorded: (callId) => this.callRecords?.recorded(callId) ?? null,
      retireAnswered: (server, client, callerView) =>
        retireIntoWindow(this.accepted, this.servers, this.layer, { server, client, callerView }),
      dialogConfirmed: (request, _response) => {
        // Own copies: the dialog outlives the INVITE, whose text a substring would keep alive.
        this.dialogs.confirmed(
          ownCopy(request.callId ?? ""),
          ownCopy(request.from?.tag ?? null),
          this.clock.now(),
        );
      },
    };
  }
}

function defaultTrusted(settings: SipSettings): TrustedSources {
  const set = new NetworkSet(settings.flood.allow);
  return (address) => set.has(address);
}
