// The drachtio edge (architecture.md): dialgate as a drachtio-srf application. drachtio-server
// owns the SIP sockets, transactions and retransmissions; this edge receives each new request
// over the drachtio protocol, hands it to the same CallRouter as the native edge, and carries
// out the decision:
//
// * respond (rejections, challenges, REGISTER and OPTIONS answers): `res.send`, with the same
//   status, reason and headers as the native edge;
// * forward an INVITE: a B2BUA over the router's attempt steps (b2bua-call.ts says why);
// * forward anything else (the router forwards no out-of-dialog non-INVITE today):
//   drachtio-server's proxy (`srf.proxyRequest`, proxyNonInvite below).
//
// What drachtio-server does before us: it answers an INVITE with 100 Trying, answers CANCEL
// with 200 (the app gets a `cancel` event), and routes in-dialog requests of B2BUA dialogs to
// their dialog objects. The checks a proxy makes before routing (§16.3: Max-Forwards,
// Proxy-Require) are made here, as on the native edge, because drachtio-server leaves them to
// the application.
import type { CallRecordDurability } from "../../calls/call-recorder.js";
import { type CallEvent, CallEventBus } from "../../calls/events.js";
import type { QualityReportPort } from "../../calls/quality-reports.js";
import type { SipSettings } from "../../config/schema.js";
import type { CallRouter, OutboundRequester, RouteTarget, RoutingDecision } from "../../routing/decision.js";
import { type Clock, systemClock } from "../../util/clock.js";
import { type Logger, silentLogger } from "../../util/logger.js";
import type { SipRequest } from "../index.js";
import { LocalIdentity } from "../native/edge-addressing.js";
import type { ProtectionStats } from "../native/limits.js";
import type { NativeEdgeStats } from "../native/native-edge.js";
import { publishToProxy } from "../native/quality-handover.js";
import { capabilityHeaders, refuseOutOfDialog, validateForProxying } from "../native/request-checks.js";
import type { SipTrafficObserver } from "../native/sip-traffic-observer.js";
import type { ListenAddress } from "../native/transport-types.js";
import { B2buaCall } from "./b2bua-call.js";
import { type DrachtioCallStore, InMemoryDrachtioCallStore } from "./call-store.js";
import { CdrReconciler } from "./cdr-reconciler.js";
import { type ConnectionState, DrachtioConnection, type DrachtioConnectionSettings } from "./connection.js";
import { responseHeaders } from "./headers.js";
import { parseInbound } from "./request-view.js";
import {
  createSrf,
  isLocalResponse,
  isSipError,
  type Srf,
  type SrfRequest,
  type SrfResponse,
} from "./srf-types.js";
import { countReceivedTraffic } from "./traffic-counter.js";

export interface DrachtioEdgeOptions {
  readonly settings: SipSettings;
  /** Where drachtio-server's admin port is (config `sip.drachtio`). */
  readonly drachtio: DrachtioConnectionSettings;
  readonly router: CallRouter;
  readonly events?: CallEventBus;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Where PUBLISH addressed to the proxy goes (RFC 6035 quality reports); absent: 405. */
  readonly qualityReports?: QualityReportPort;
  /** Where drachtio-server's CDR events are kept by Call-ID (default: this process only). */
  readonly callStore?: DrachtioCallStore;
  /** How often the CDR sweep runs (cdr-reconciler.ts). */
  readonly cdrSweepIntervalMs?: number;
  /** How long `start()` waits for the first connection (it keeps retrying afterwards). */
  readonly connectTimeoutMs?: number;
  /** The call recorder: a BYE is answered once the call's CDR is durable (bye-answer.ts). */
  readonly callRecords?: CallRecordDurability;
  /** Counts of the SIP messages drachtio-server hands this edge (traffic-counter.ts), for metrics. */
  readonly observer?: SipTrafficObserver;
}

/**
 * The native edge's counters, as far as they exist here (drachtio-server owns transactions,
 * timers and sockets, so those are 0 in this process), plus the connection's state.
 */
export interface DrachtioEdgeStats extends NativeEdgeStats {
  readonly connection: ConnectionState;
  readonly connects: number;
}

type EventBody = CallEvent extends infer E ? (E extends unknown ? Omit<E, "callId" | "at"> : never) : never;

export class DrachtioEdge implements OutboundRequester {
  readonly events: CallEventBus;
  readonly connection: DrachtioConnection;
  private readonly srf: Srf;
  private readonly settings: SipSettings;
  private readonly router: CallRouter;
  private readonly log: Logger;
  private readonly clock: Clock;
  /** Calls in progress by the caller's Call-ID (drain, shutdown, the recorder's expiry). */
  private readonly calls = new Map<string, B2buaCall>();
  private draining = false;
  readonly cdr: CdrReconciler;
  readonly callStore: DrachtioCallStore;
  private sweepTimer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  private readonly us: LocalIdentity;

  constructor(private readonly options: DrachtioEdgeOptions) {
    this.settings = options.settings;
    this.router = options.router;
    this.events = options.events ?? new CallEventBus();
    this.log = (options.logger ?? silentLogger()).child({ component: "sip", edge: "drachtio" });
    this.clock = options.clock ?? systemClock;
    this.srf = createSrf();
    this.callStore = options.callStore ?? new InMemoryDrachtioCallStore();
    this.cdr = new CdrReconciler({
      store: this.callStore,
      clock: this.clock,
      log: this.log,
      ownCalls: () => this.calls.values(),
    });
    const observer = options.observer;
    this.connection = new DrachtioConnection(this.srf, options.drachtio, this.log, (agent) => {
      this.cdr.attach(agent);
      if (observer !== undefined) countReceivedTraffic(agent, observer);
    });
    // config.md: with edge drachtio, `listen` names drachtio-server's SIP addresses; they and
    // recordRouteHost are how a request "to the proxy" is recognised.
    this.us = new LocalIdentity(this.settings.recordRouteHost);
    this.us.learn(this.settings.listen);
  }

  /** Registers the handlers and connects; resolves once drachtio-server accepted the app. */
  async start(): Promise<readonly ListenAddress[]> {
    const handle = (req: SrfRequest, res: SrfResponse) => {
      try {
        this.onRequest(req, res);
      } catch (err) {
        this.log.error({ err: (err as Error).stack }, "error while handling a SIP request");
        safeSend(res, 500, "Server Internal Error");
      }
    };
    this.srf.invite(handle);
    this.srf.register(handle);
    this.srf.options(handle);
    this.srf.publish(handle);
    this.srf.subscribe(handle);
    this.srf.message(handle);
    await this.connection.start(this.options.connectTimeoutMs ?? 10_000);
    this.sweepTimer = setInterval(() => {
      this.cdr.sweep().catch((err: unknown) => this.log.warn({ err: String(err) }, "CDR sweep failed"));
    }, this.options.cdrSweepIntervalMs ?? 5_000);
    this.sweepTimer.unref?.();
    return this.settings.listen.map((l) => ({ ...l }));
  }

  get listenAddresses(): readonly ListenAddress[] {
    return this.settings.listen;
  }

  get stats(): DrachtioEdgeStats {
    let dialogs = 0;
    for (const c of this.calls.values()) if (c.inDialog) dialogs++;
    return {
      serverTransactions: 0,
      clientTransactions: 0,
      calls: this.calls.size - dialogs,
      dialogs,
      timers: 0,
      tcpConnections: 0,
      connection: this.connection.state,
      connects: this.connection.connects,
    };
  }

  /**
   * The native edge's flood guard counters. On this edge drachtio-server owns the sockets (its
   * own blacklist, `<blacklist>` in drachtio.conf.xml, is the place for bans), so dialgate
   * drops nothing itself and these stay 0.
   */
  get protectionStats(): ProtectionStats {
    return { bans: 0, droppedMessages: 0, scannerRequests: 0, bannedNow: 0, refusedConnections: 0 };
  }

  /** Ready while connected to drachtio-server (it reconnects by itself; calls fail meanwhile). */
  readiness(): { ok: boolean; detail: string } {
    return this.connection.state === "connected"
      ? { ok: true, detail: `connected to drachtio-server (${this.connection.hostports ?? "?"})` }
      : { ok: false, detail: `drachtio-server connection ${this.connection.state}` };
  }

  /**
   * Forgets an answered call whose BYE never came (the recorder's maximum call duration): it no
   * longer counts towards drain and the dialog count; its two dialogs stay bridged.
   */
  forgetDialog(callId: string): void {
    if (this.calls.delete(callId)) this.checkIdle();
  }

  /** New INVITEs get 503 + Retry-After; resolves true once every call is over, false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    this.draining = true;
    if (this.calls.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
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

  async stop(): Promise<void> {
    this.draining = true;
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    for (const c of [...this.calls.values()]) c.hangUp();
    this.connection.close();
  }

  // ---- OutboundRequester: gateway OPTIONS pings go out through drachtio-server ---------------

  async sendOptions(target: RouteTarget["destination"], requestUri: string): Promise<number | null> {
    if (this.connection.state !== "connected") return null;
    const transport = target.transport === "udp" ? "" : `;transport=${target.transport}`;
    const host = target.host.includes(":") ? `[${target.host}]` : target.host;
    // The native edge gives up after Timer F (64*T1, §17.1.2.2) with the configured T1; so does
    // this one, whatever drachtio-server's own timers are.
    const timerF = 64 * this.settings.timers.t1Ms;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timerF);
    });
    const answer = new Promise<number | null>((resolve) => {
      try {
        this.srf.request(
          requestUri,
          {
            method: "OPTIONS",
            proxy: `sip:${host}:${target.port}${transport}`,
            headers: { Accept: "application/sdp" },
          },
          (err, sent) => {
            if (err || sent === undefined) {
              resolve(null);
              return;
            }
            sent.on("response", (res) => {
              if (res.status >= 200) resolve(isLocalResponse(res) ? null : res.status);
            });
          },
        );
      } catch {
        resolve(null);
      }
    });
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- inbound ---------------------------------------------------------------------------------

  private onRequest(req: SrfRequest, res: SrfResponse): void {
    const parsed = parseInbound(req, (r) => this.addressedToProxy(r), this.settings.maxMessageBytes);
    if ("error" in parsed) {
      // drachtio-server parsed it; ours did not: say why, as the native edge does (400).
      this.options.observer?.parseError(parsed.code);
      safeSend(res, 400, parsed.error);
      return;
    }
    const { request: r, view } = parsed;
    // §16.3 steps 3-5 and the out-of-dialog rules, exactly as the native edge applies them
    // (drachtio-server leaves them to the application).
    const refusal =
      validateForProxying(r, this.us) ??
      (r.to?.tag != null
        ? // An in-dialog request drachtio-server did not match to one of our dialogs.
          { status: 481, reason: "Call/Transaction Does Not Exist" }
        : (publishToProxy(r, view.source, view.addressedToProxy, this.options.qualityReports) ??
          refuseOutOfDialog(r, view.addressedToProxy)));
    if (refusal !== null) {
      safeSend(res, refusal.status, refusal.reason, refusal.headers ?? [], this.log);
      return;
    }
    if (r.method === "INVITE" && this.draining) {
      safeSend(res, 503, "Service Unavailable", [["Retry-After", "30"]]);
      return;
    }
    const onDecision = (decision: RoutingDecision) => {
      if (res.finalResponseSent) return;
      if (decision.kind === "respond") this.respondDecision(req, res, r, view.addressedToProxy, decision);
      else this.forward(req, res, r, decision);
    };
    const onError = (err: unknown) => {
      this.log.error(
        { err: err instanceof Error ? err.message : String(err), callId: r.callId },
        "router failed",
      );
      safeSend(res, 500, "Server Internal Error");
    };
    try {
      const d = this.router.route(view);
      if (d instanceof Promise) d.then(onDecision, onError);
      else onDecision(d);
    } catch (err) {
      onError(err);
    }
  }

  private respondDecision(
    _req: SrfRequest,
    res: SrfResponse,
    r: SipRequest,
    toProxy: boolean,
    decision: Extract<RoutingDecision, { kind: "respond" }>,
  ): void {
    const headers = [...(decision.headers ?? [])];
    if (r.method === "OPTIONS" && toProxy && decision.status < 300) {
      for (const h of capabilityHeaders())
        if (!headers.some(([n]) => n.toLowerCase() === h[0].toLowerCase())) headers.push(h);
    }
    safeSend(res, decision.status, decision.reason, headers, this.log);
    if (r.method === "INVITE") {
      const callId = r.callId ?? "";
      this.emit(callId, { type: "received", method: r.method, call: decision.call ?? null });
      if (decision.status >= 300)
        this.emit(callId, { type: "rejected", status: decision.status, reason: decision.reason });
    }
  }

  private forward(
    req: SrfRequest,
    res: SrfResponse,
    r: SipRequest,
    decision: Extract<RoutingDecision, { kind: "forward" }>,
  ): void {
    r.decrementMaxForwards();
    if (r.method !== "INVITE") {
      this.proxyNonInvite(req, res, decision);
      return;
    }
    const callId = r.callId ?? "";
    const call: B2buaCall = new B2buaCall(
      {
        srf: this.srf,
        log: this.log.child({ callId }),
        emit: (e) => this.emit(callId, e),
        finished: () => {
          if (this.calls.get(callId) === call) this.calls.delete(callId);
          this.checkIdle();
        },
        ...(this.options.callRecords ? { callRecords: this.options.callRecords } : {}),
      },
      callId,
      req,
      res,
      r,
      { steps: decision.steps, headerEdits: decision.headerEdits, call: decision.call },
    );
    this.calls.set(callId, call);
    call.start();
  }

  /** An out-of-dialog non-INVITE the router forwards: drachtio-server proxies it to the first step. */
  private proxyNonInvite(
    req: SrfRequest,
    res: SrfResponse,
    decision: Extract<RoutingDecision, { kind: "forward" }>,
  ): void {
    const targets = decision.steps[0]?.targets ?? [];
    if (targets.length === 0) {
      safeSend(res, 480, "Temporarily Unavailable");
      return;
    }
    this.srf
      .proxyRequest(
        req,
        targets.map((t) => t.requestUri),
        { recordRoute: false, forking: "simultaneous", remainInDialog: false },
      )
      .catch((err: unknown) => {
        this.log.warn({ err: isSipError(err) ? err.status : String(err) }, "proxying failed");
        safeSend(res, 500, "Server Internal Error");
      });
  }

  private emit(callId: string, e: EventBody): void {
    this.events.emit({ ...e, callId, at: this.clock.now() } as CallEvent);
  }

  private addressedToProxy(r: SipRequest): boolean {
    const uri = r.uri;
    return uri?.kind === "sip" && this.us.isOurUri(uri);
  }

  private checkIdle(): void {
    if (this.calls.size > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}

function safeSend(
  res: SrfResponse,
  status: number,
  reason: string,
  headers: readonly (readonly [string, string])[] = [],
  log?: Logger,
): void {
  if (res.finalResponseSent) return;
  let hs = responseHeaders(headers);
  if (hs === null) {
    log?.error({ status }, "router response headers contain CR/LF: answering 500");
    hs = {};
    status = 500;
    reason = "Server Internal Error";
  }
  try {
    res.send(status, reason, Object.keys(hs).length > 0 ? { headers: hs } : {});
  } catch (err) {
    log?.debug({ err: (err as Error).message, status }, "cannot send a response");
  }
}
