import type { RouteTarget } from "../../routing/decision.js";
import { createRequest, type SipRequest, type SipResponse } from "../index.js";
import { InviteClientState, InviteClientTransaction } from "./invite-client-transaction.js";
import { NonInviteClientTransaction } from "./non-invite-client-transaction.js";
import { type ClientTx, ownVia, type ProxyContext, UDP_SIZE_LIMIT } from "./proxy-context.js";
import type { TimerHandle } from "./timer-service.js";
import { clientTransactionKey } from "./transaction-key.js";
import type { ClientTransactionUser } from "./transaction-user.js";
import type { Destination, NativeTransport } from "./transport-types.js";

/** Why a branch ended without a response of its own. */
export type LocalEndCause = "timeout" | "transport" | "failover-timer" | "cancelled";

/** What the response context hears from a branch. */
export interface BranchUser {
  onProvisional(branch: ProxyBranch, response: SipResponse): void;
  /** A 2xx, the first and every retransmission (RFC 6026). */
  onSuccess(branch: ProxyBranch, response: SipResponse): void;
  /** A final failure: a response (cause "response") or one the proxy made up. */
  onFailure(
    branch: ProxyBranch,
    status: number,
    reason: string,
    response: SipResponse | null,
    cause: "response" | LocalEndCause,
  ): void;
  /** The branch's transactions are all terminated. */
  onBranchDone(branch: ProxyBranch): void;
}

export interface BranchSpec {
  /** The request as it will be sent, without our Via (already edited: Request-URI, Max-Forwards, headers). */
  readonly request: SipRequest;
  readonly destination: Destination;
  /** The inbound transport, to decide on double record-routing. */
  readonly inboundTransport: NativeTransport | null;
  /** Insert Record-Route (dialog-creating requests). */
  readonly recordRoute: boolean;
  /**
   * A SIPS request (route-preprocessing.ts `isSipsRequest`, as received or as forwarded): it
   * leaves over TLS or not at all, and is record-routed with a SIPS URI.
   */
  readonly sips: boolean;
  /** Router target (null for in-dialog forwarding). */
  readonly target: RouteTarget | null;
  readonly step: number;
}

/**
 * One branch of a response context (RFC 3261 §16.6): one client transaction to one target,
 * with Timer C for INVITEs and the CANCEL that may follow.
 */
export class ProxyBranch {
  /** The final outcome is known (a response or a local decision); late responses are still handled. */
  settled = false;
  /** Whether a provisional above 100 arrived (the failover timer does not apply then). */
  ringing = false;
  gotProvisional = false;
  answered = false;
  /** Which timer ended the branch, when one did: "B"/"F" (transaction) or "C" (§16.6 step 11). */
  timeoutTimer: string | null = null;
  private tx: ClientTx | null = null;
  private cancelTx: NonInviteClientTransaction<SipResponse> | null = null;
  private cancelWanted = false;
  private cancelSent = false;
  private timerC: TimerHandle | null = null;
  private sent: SipRequest | null = null;
  private branchId = "";
  private viaValue = "";
  private liveTx = 0;
  private finished = false;

  /** Where the branch goes (the BranchSpec without its request, released once sent). */
  readonly spec: Omit<BranchSpec, "request">;
  private readonly invite: boolean;
  /** The request to send, until start() has built and sent it. */
  private toSend: SipRequest | null;

  constructor(
    private readonly ctx: ProxyContext,
    spec: BranchSpec,
    private readonly user: BranchUser,
  ) {
    const { request, ...where } = spec;
    this.spec = where;
    this.toSend = request;
    this.invite = request.method === "INVITE";
  }

  get isInvite(): boolean {
    return this.invite;
  }

  get target(): RouteTarget | null {
    return this.spec.target;
  }

  start(): void {
    const toSend = this.toSend;
    this.toSend = null;
    if (toSend === null) return;
    let dest = this.spec.destination;
    if (this.spec.sips && dest.transport !== "tls") {
      // RFC 3261 §26.2.2, RFC 5630: a SIPS request is never sent over a hop that is not TLS.
      // This target cannot take it: a transport failure, so the call fails over.
      this.ctx.logger.info(
        { dest: `${dest.host}:${dest.port}`, transport: dest.transport, target: this.spec.target?.label },
        "sips: request not sent over a non-TLS hop",
      );
      this.settle(503, "SIPS Needs TLS To Next Hop", null, "transport");
      this.checkDone();
      return;
    }
    let built = this.build(dest, toSend);
    // §18.1.1: a request that would exceed the UDP size limit goes over TCP instead, when we can.
    if (dest.transport === "udp" && built !== null && built.bytes.length > UDP_SIZE_LIMIT) {
      const tcp: Destination = { ...dest, transport: "tcp" };
      if (this.ctx.localFor(tcp) !== null) {
        dest = tcp;
        built = this.build(tcp, toSend);
      }
    }
    if (built === null) {
      this.settle(503, "No Listener For Transport", null, "transport");
      this.checkDone();
      return;
    }
    const { bytes, request } = built;
    this.sent = request;
    const channel = this.ctx.channelTo(dest);
    const key = clientTransactionKey(this.branchId, request.method);
    const user: ClientTransactionUser<SipResponse> = {
      onResponse: (r) => this.onResponse(r),
      onTimeout: () => this.onTimeout(),
      onTransportError: (err) => this.onTransportError(err),
      onTerminated: () => this.onTxTerminated(),
    };
    const tx: ClientTx = this.isInvite
      ? new InviteClientTransaction<SipResponse>({
          key,
          request: bytes,
          channel,
          timers: this.ctx.timers,
          timerService: this.ctx.timerService,
          user,
          buildAck: (r) => this.buildAck(r),
        })
      : new NonInviteClientTransaction<SipResponse>({
          key,
          request: bytes,
          channel,
          timers: this.ctx.timers,
          timerService: this.ctx.timerService,
          user,
          // The edge drops stray non-INVITE responses: Timer K need not keep this branch 5 s.
          endAtFinal: true,
        });
    this.tx = tx;
    this.liveTx++;
    this.ctx.registerClient(tx);
    // §16.6 step 11: Timer C guards INVITE branches that ring for ever.
    if (this.isInvite) this.timerC = this.ctx.timerService.set(this.ctx.timerCMs, () => this.onTimerC());
    tx.start();
  }

  /**
   * Gives up on this branch (§16.10 caller CANCEL, §16.7 step 10 after a 2xx elsewhere, or
   * the failover timer). §9.1: a CANCEL may only be sent once a provisional arrived; before
   * that the CANCEL waits for one, and the branch counts as ended now.
   */
  cancel(cause: LocalEndCause, status: number, reason: string): void {
    if (!this.isInvite) {
      this.settle(status, reason, null, cause);
      return;
    }
    this.cancelWanted = true;
    if (this.tx instanceof InviteClientTransaction && this.tx.cancellable) this.sendCancel();
    if (!this.settled) this.settle(status, reason, null, cause);
  }

  /** Stops Timer C and forgets the branch's timers (the call is over). */
  private clearTimerC(): void {
    this.ctx.timerService.clear(this.timerC);
    this.timerC = null;
  }

  private build(dest: Destination, toSend: SipRequest): { bytes: Buffer; request: SipRequest } | null {
    const local = this.ctx.localFor(dest);
    if (local === null) return null;
    const request = toSend.clone();
    if (this.spec.recordRoute) {
      const inbound = this.spec.inboundTransport;
      // Double record-routing when the two sides use different transports, so each side
      // reaches us over its own transport (RFC 5658 §3.2 style).
      if (inbound !== null && inbound !== dest.transport) {
        // A SIPS request that came over UDP/TCP (no TLS on that hop already) gets a sip: entry
        // for that side: a sips: one would make the caller's side switch to TLS mid-dialog.
        const inLocal = this.ctx.localFor({ host: dest.host, port: 0, transport: inbound });
        if (inLocal !== null) request.addRecordRoute(this.ctx.recordRouteFor(inLocal, this.spec.sips));
      }
      request.addRecordRoute(this.ctx.recordRouteFor(local, this.spec.sips));
    }
    this.branchId = this.ctx.newBranch(toSend);
    this.viaValue = ownVia(dest.transport, this.ctx.sentByFor(local), this.branchId);
    request.pushVia(this.viaValue);
    // §18.3 / §20.14: mandatory on a stream; over UDP too, because an RFC 2543 request may
    // arrive without one (its body ran to the end of the datagram) and the next hop should not
    // have to guess where this message ends.
    request.ensureContentLength();
    return { bytes: request.serialize(), request };
  }

  /** §17.1.1.3: the ACK for a non-2xx final, built by the transaction layer, hop by hop. */
  private buildAck(response: SipResponse): Buffer {
    const req = this.sent!;
    return createRequest({
      method: "ACK",
      requestUri: req.requestUri,
      via: [this.viaValue],
      from: req.header("from") ?? "",
      to: response.header("to") ?? req.header("to") ?? "",
      callId: req.callId ?? "",
      cseq: req.cseq?.seq ?? 1,
      route: req.headers("route"),
    }).serialize();
  }

  /** §9.1: CANCEL with the INVITE's Request-URI, top Via, From, To, Call-ID, CSeq number and Route. */
  private sendCancel(): void {
    if (this.cancelSent || this.sent === null) return;
    this.cancelSent = true;
    const req = this.sent;
    const cancel = createRequest({
      method: "CANCEL",
      requestUri: req.requestUri,
      via: [this.viaValue],
      from: req.header("from") ?? "",
      to: req.header("to") ?? "",
      callId: req.callId ?? "",
      cseq: req.cseq?.seq ?? 1,
      route: req.headers("route"),
    });
    const dest = this.destinationOfSent();
    const tx = new NonInviteClientTransaction<SipResponse>({
      key: clientTransactionKey(this.branchId, "CANCEL"),
      request: cancel.serialize(),
      channel: this.ctx.channelTo(dest),
      timers: this.ctx.timers,
      timerService: this.ctx.timerService,
      endAtFinal: true,
      user: {
        onResponse: () => {},
        onTimeout: () => {},
        onTransportError: () => {},
        onTerminated: () => {
          this.ctx.unregisterClient(tx);
          this.liveTx--;
          this.checkDone();
        },
      },
    });
    this.cancelTx = tx;
    this.liveTx++;
    this.ctx.registerClient(tx);
    tx.start();
  }

  private destinationOfSent(): Destination {
    const via = this.viaValue;
    const transport: NativeTransport = via.startsWith("SIP/2.0/TCP")
      ? "tcp"
      : via.startsWith("SIP/2.0/TLS")
        ? "tls"
        : "udp";
    return { ...this.spec.destination, transport };
  }

  private onResponse(r: SipResponse): void {
    const s = r.status;
    if (s < 200) {
      this.gotProvisional = true;
      if (this.cancelWanted) {
        // §9.1: the CANCEL that had to wait for a provisional goes now.
        this.sendCancel();
        return;
      }
      if (s > 100) {
        this.ringing = true;
        // §16.7 step 2: a provisional (101-199) restarts Timer C.
        if (this.timerC !== null) {
          this.clearTimerC();
          this.timerC = this.ctx.timerService.set(this.ctx.timerCMs, () => this.onTimerC());
        }
      }
      if (!this.settled) this.user.onProvisional(this, r);
      return;
    }
    this.clearTimerC();
    // A final: no CANCEL will be built from the request any more, and the hop-by-hop ACK of a
    // non-2xx is already built; the transaction lingers (64*T1 after a 2xx, RFC 6026, Timer D
    // or K otherwise), so the parsed request is not kept that long.
    this.sent = null;
    if (s < 300) {
      this.answered = true;
      this.settled = true;
      this.user.onSuccess(this, r);
      return;
    }
    if (this.settled) return; // already ended locally (cancelled, failover): the 487 is absorbed
    this.settle(s, r.reason, r, "response");
  }

  private onTimeout(): void {
    this.clearTimerC();
    this.timeoutTimer = this.isInvite ? "B" : "F";
    // §16.7 step 6: a client transaction that timed out counts as a 408 from that branch.
    if (!this.settled) this.settle(408, "Request Timeout", null, "timeout");
  }

  private onTransportError(err: Error): void {
    this.clearTimerC();
    this.ctx.logger.debug({ err: err.message, dest: this.spec.destination }, "transport failure on branch");
    // §16.7 step 6 (and §16.9): a transport error counts as a 503 made up by the proxy.
    if (!this.settled) this.settle(503, "Service Unavailable", null, "transport");
  }

  private onTimerC(): void {
    this.timerC = null;
    this.timeoutTimer = "C";
    // §16.6 step 11: Timer C fired: CANCEL if the branch is ringing, else act as on a 408.
    if (this.tx instanceof InviteClientTransaction && this.tx.currentState === InviteClientState.Proceeding) {
      this.cancelWanted = true;
      this.sendCancel();
      if (!this.settled) this.settle(408, "Request Timeout", null, "timeout");
    } else if (!this.settled) {
      this.settle(408, "Request Timeout", null, "timeout");
    }
  }

  private settle(
    status: number,
    reason: string,
    r: SipResponse | null,
    cause: "response" | LocalEndCause,
  ): void {
    this.settled = true;
    this.user.onFailure(this, status, reason, r, cause);
  }

  private onTxTerminated(): void {
    if (this.tx !== null) this.ctx.unregisterClient(this.tx);
    this.clearTimerC();
    this.liveTx--;
    if (!this.settled) this.settle(408, "Request Timeout", null, "timeout");
    this.checkDone();
  }

  private checkDone(): void {
    if (this.finished || this.liveTx > 0) return;
    this.finished = true;
    this.clearTimerC();
    this.user.onBranchDone(this);
  }

  /**
   * The answered INVITE transaction when it is all that is left of this branch (Accepted, no
   * CANCEL transaction left, Timer C stopped): the call may then hand it to the Accepted window.
   */
  get quietAcceptedTx(): InviteClientTransaction<SipResponse> | null {
    const tx = this.tx;
    if (!(tx instanceof InviteClientTransaction) || tx.currentState !== InviteClientState.Accepted)
      return null;
    // liveTx counts the CANCEL's transaction too: 1 means the INVITE's is the only one left.
    return this.liveTx === 1 && this.timerC === null ? tx : null;
  }

  /** Whether the branch still has live transactions (for leak accounting). */
  get done(): boolean {
    return this.finished;
  }

  /** The CANCEL transaction, if one was sent (tests). */
  get cancelTransaction(): NonInviteClientTransaction<SipResponse> | null {
    return this.cancelTx;
  }
}
