import { isIP } from "node:net";
import type { AttemptStep, CallContext, HeaderEdits, RouteTarget } from "../../routing/decision.js";
import { ownCopy } from "../../util/own-copy.js";
import { createResponse, type SipRequest, type SipResponse } from "../index.js";
import { chooseBestResponse, type FinalOutcome, upstreamStatus } from "./best-response.js";
import { type CallerView, takeCallerView, upstreamCopy } from "./caller-view.js";
import type { InviteClientTransaction } from "./invite-client-transaction.js";
import { type BranchSpec, type BranchUser, type LocalEndCause, ProxyBranch } from "./proxy-branch.js";
import type { ProxyContext } from "./proxy-context.js";
import { isSipsRequest } from "./route-preprocessing.js";
import type { ServerTx } from "./server-tx.js";
import type { TimerHandle } from "./timer-service.js";
import type { Destination, NativeTransport } from "./transport-types.js";

/** How the call's request is forwarded. */
export type ForwardPlan =
  | {
      /** A new request routed by the router: steps tried in order (routing.md, failover). */
      readonly kind: "routed";
      readonly steps: readonly AttemptStep[];
      readonly headerEdits: HeaderEdits | undefined;
      readonly call: CallContext | null;
      /** When the request reached the edge (the `received` event's time). */
      readonly receivedAt?: number;
    }
  | {
      /** An in-dialog request: one next hop from the Route set or the Request-URI (§16.12). */
      readonly kind: "in-dialog";
      readonly destination: Destination;
    };

/**
 * A response context (RFC 3261 §16): one server transaction, the branches forwarded for it,
 * the failover search over the router's steps, best-response selection and CANCEL handling.
 * Call events are emitted for INVITEs that the router routed.
 */
export class ProxyCall implements BranchUser {
  private readonly branches: ProxyBranch[] = [];
  private readonly outcomes: FinalOutcome[] = [];
  private stepIndex = -1;
  private failoverTimer: TimerHandle | null = null;
  private finalSent = false;
  private answered = false;
  private cancelled = false;
  private serverDone = false;
  /** A final response held until the call's CDR is durable (onSuccess) is not sent yet. */
  private awaitingDelivery = false;
  private finished = false;
  private seq = 0;
  private launching = false;
  private readonly callId: string;
  private readonly reportEvents: boolean;
  private readonly method: string;
  /**
   * The request as received (Route preprocessing done, Max-Forwards decremented) until the
   * caller has its final response; then only the caller's From and To are kept (callerView),
   * because the transactions linger 64*T1 after a 2xx (RFC 6026) and a parsed INVITE per call
   * for 32 s was most of the proxy's memory (bench/README.md, held calls).
   */
  private original: SipRequest | null;
  private callerView: CallerView | null = null;

  constructor(
    private readonly ctx: ProxyContext,
    request: SipRequest,
    private readonly inboundTransport: NativeTransport,
    private readonly server: ServerTx,
    private readonly plan: ForwardPlan,
  ) {
    this.original = request;
    this.method = request.method;
    // Own copy: the recorder and the capacity counter key the call by it for as long as it lasts.
    this.callId = ownCopy(request.callId ?? "");
    this.reportEvents = plan.kind === "routed" && request.method === "INVITE";
  }

  /** The request as received; only read before the final response (see `original`). */
  private get request(): SipRequest {
    if (this.original === null) throw new Error("the request of a settled call was released");
    return this.original;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  start(): void {
    if (this.plan.kind === "in-dialog") {
      this.stepIndex = 0;
      this.launch({
        request: this.request,
        destination: this.plan.destination,
        inboundTransport: this.inboundTransport,
        recordRoute: false,
        sips: isSipsRequest(this.request),
        target: null,
        step: 0,
      });
      return;
    }
    if (this.reportEvents)
      this.ctx.emit({
        type: "received",
        method: this.method,
        call: this.plan.call,
        callId: this.callId,
        at: this.plan.receivedAt ?? this.ctx.now(),
      });
    this.startStep(0);
  }

  /** The server transaction ended (its last timer fired). */
  serverTerminated(): void {
    this.serverDone = true;
    this.checkFinished();
  }

  /** §16.10: the caller CANCELled the INVITE: cancel every pending branch and answer 487. */
  cancelByCaller(): void {
    if (this.finalSent || this.cancelled) return;
    this.cancelled = true;
    this.clearFailoverTimer();
    for (const b of this.branches) if (!b.settled) b.cancel("cancelled", 487, "Request Terminated");
    // Answer the caller now rather than waiting for every branch's 487: branches that never
    // sent a provisional cannot be CANCELled yet (§9.1) and would keep the caller waiting.
    if (!this.finalSent) this.sendFinal(487, "Request Terminated", null);
    if (this.reportEvents) this.emit({ type: "cancelled" });
  }

  // ---- steps and failover (routing.md) ------------------------------------------------------

  private startStep(index: number): void {
    if (this.plan.kind !== "routed") return;
    const step = this.plan.steps[index];
    if (step === undefined || step.targets.length === 0) {
      this.finishSearch();
      return;
    }
    this.stepIndex = index;
    // A target may fail synchronously (no listener for its transport): judge the step only
    // once every target of it has been launched.
    this.launching = true;
    for (const target of step.targets) {
      let request: SipRequest;
      try {
        request = this.requestFor(target);
      } catch (err) {
        // A header edit that would break the message (CR/LF): a router bug, reported as 500.
        this.ctx.logger.error(
          { err: (err as Error).message, target: target.label },
          "cannot apply header edits",
        );
        this.recordOutcome(500, "Server Internal Error", true);
        continue;
      }
      this.launch({
        request,
        destination: nativeDestination(target),
        inboundTransport: this.inboundTransport,
        recordRoute: isDialogCreating(this.method),
        // A call to a SIPS URI stays SIPS whatever URI the router put in its place.
        sips: isSipsRequest(this.request) || isSipsRequest(request),
        target,
        step: index,
      });
    }
    this.launching = false;
    if (this.finalSent || this.answered) return;
    if (step.failoverTimeoutMs !== null && this.pendingInStep().length > 0) {
      this.failoverTimer = this.ctx.timerService.set(step.failoverTimeoutMs, () => this.onFailoverTimer());
    }
    this.maybeStepOver();
  }

  private launch(spec: BranchSpec): void {
    const branch = new ProxyBranch(this.ctx, spec, this);
    this.branches.push(branch);
    if (spec.target !== null && this.reportEvents)
      this.emit({ type: "attempt-sent", step: spec.step, target: spec.target });
    branch.start();
  }

  /** §16.6 steps 1-2 and the router's header edits: one copy of the request per target. */
  private requestFor(target: RouteTarget): SipRequest {
    const r = this.request.clone();
    r.setRequestUri(target.requestUri);
    if (this.plan.kind === "routed") applyEdits(r, this.plan.headerEdits);
    applyEdits(r, target.headerEdits);
    return r;
  }

  private onFailoverTimer(): void {
    this.failoverTimer = null;
    if (this.finalSent || this.answered) return;
    // routing.md: no provisional above 100 within the failover time: CANCEL the attempt and go on.
    for (const b of this.pendingInStep()) {
      if (!b.ringing) b.cancel("failover-timer", 408, "Request Timeout");
    }
  }

  private pendingInStep(): ProxyBranch[] {
    return this.branches.filter((b) => b.spec.step === this.stepIndex && !b.settled);
  }

  /** When every branch of the current step has failed, fail over or answer the caller. */
  private maybeStepOver(): void {
    if (this.launching || this.finalSent || this.answered || this.cancelled) return;
    if (this.pendingInStep().length > 0) return;
    this.clearFailoverTimer();
    if (
      this.plan.kind === "routed" &&
      this.stepAllowsFailover() &&
      this.stepIndex + 1 < this.plan.steps.length
    ) {
      this.startStep(this.stepIndex + 1);
      return;
    }
    this.finishSearch();
  }

  /** Failures per step; made on the first failure (most calls have none). */
  private stepFailures: Map<number, { status: number; cause: "response" | LocalEndCause }[]> | null = null;

  /**
   * routing.md: fail over only when every target of the step failed with a failover code,
   * the failover timer, or a transport failure; any other final failure ends the call.
   */
  private stepAllowsFailover(): boolean {
    if (this.plan.kind !== "routed") return false;
    const step = this.plan.steps[this.stepIndex];
    const failures = this.stepFailures?.get(this.stepIndex) ?? [];
    if (step === undefined || failures.length === 0) return false;
    return failures.every(
      (f) =>
        f.cause === "transport" ||
        f.cause === "failover-timer" ||
        step.failoverResponseCodes.includes(f.status),
    );
  }

  private finishSearch(): void {
    if (this.finalSent || this.answered) return;
    const best = chooseBestResponse(this.outcomes);
    if (best === null) {
      this.sendFinal(408, "Request Timeout", null);
      return;
    }
    const { status, reason } = upstreamStatus(best);
    this.sendFinal(
      status,
      reason,
      best.local || status !== best.status ? null : (this.responses?.get(best.seq) ?? null),
    );
  }

  // ---- BranchUser ---------------------------------------------------------------------------

  onProvisional(branch: ProxyBranch, response: SipResponse): void {
    if (response.status > 100 && branch.spec.step === this.stepIndex) this.clearFailoverTimer();
    if (this.reportEvents && branch.target !== null && response.status > 100)
      this.emit({
        type: "provisional",
        step: branch.spec.step,
        target: branch.target,
        status: response.status,
      });
    // §16.7 step 5: provisionals other than 100 are forwarded (100 was answered hop by hop).
    if (response.status === 100 || this.finalSent || this.answered) return;
    this.relay(response);
  }

  onSuccess(branch: ProxyBranch, response: SipResponse): void {
    const first = !this.answered;
    if (first) {
      this.answered = true;
      this.clearFailoverTimer();
      if (this.reportEvents && branch.target !== null)
        this.emit({
          type: "answered",
          step: branch.spec.step,
          target: branch.target,
          status: response.status,
          reason: response.reason,
        });
      // §16.7 step 10: once a 2xx is forwarded, pending INVITE branches are CANCELled.
      for (const b of this.branches)
        if (b !== branch && !b.settled) b.cancel("cancelled", 487, "Request Terminated");
    }
    // §16.7 step 5: every 2xx is forwarded, retransmissions included (RFC 6026 Accepted state).
    const copy = this.upstreamCopy(response);
    const bytes = copy.serialize();
    const deliver = () => {
      if (!this.server.respond(response.status, bytes)) this.ctx.forwardResponseStatelessly(copy);
    };
    // The call's end is acknowledged only once its CDR is durable (bounded wait).
    const recorded =
      first && this.plan.kind === "in-dialog" && this.method === "BYE"
        ? (this.ctx.callRecorded?.(this.callId) ?? null)
        : null;
    if (recorded === null) deliver();
    else {
      // Not finished before the answer is out: a draining proxy closes its sockets once its
      // last call finishes.
      this.awaitingDelivery = true;
      void recorded.then(() => {
        deliver();
        this.awaitingDelivery = false;
        this.checkFinished();
      });
    }
    if (first) {
      this.finalSent = true;
      const dialog = this.method === "INVITE" && this.plan.kind === "routed";
      if (dialog) this.ctx.dialogConfirmed(this.request, response);
      this.releaseRequest();
      if (dialog) this.retireIfQuiet();
      else this.checkFinished();
    }
  }

  /**
   * The caller has its final answer: later 2xx (retransmissions, other forks) need only the
   * caller's view, and the server transaction lingers (64*T1 after a 2xx, RFC 6026; Timer J
   * for a non-INVITE over UDP), so the parsed request is let go now.
   */
  private releaseRequest(): void {
    if (this.original === null) return;
    if (this.plan.kind === "routed") this.callerView ??= takeCallerView(this.original);
    this.original = null;
  }

  /**
   * An answered INVITE whose only live parts are its Accepted transactions hands them to the
   * edge's compact Accepted window (accepted-window.ts) and ends here: the ProxyCall, its
   * branches and both transactions no longer linger 64*T1 per answered call.
   */
  private retireIfQuiet(): void {
    if (this.finished || this.original !== null || this.plan.kind !== "routed" || this.method !== "INVITE")
      return;
    let accepted: InviteClientTransaction<SipResponse> | null = null;
    for (const b of this.branches) {
      if (b.answered) {
        // Two answered forks: each 2xx needs the full machinery (rare; left as it is).
        if (accepted !== null) return;
        accepted = b.quietAcceptedTx;
        if (accepted === null) return;
      } else if (!b.done) return;
    }
    if (accepted === null || !this.ctx.retireAnswered(this.server, accepted, this.callerView)) return;
    this.serverDone = true;
    this.finished = true;
    this.clearFailoverTimer();
    this.ctx.callFinished();
  }

  /** Final failure responses by outcome number, for best-response selection; made on the first one. */
  private responses: Map<number, SipResponse> | null = null;

  onFailure(
    branch: ProxyBranch,
    status: number,
    reason: string,
    response: SipResponse | null,
    cause: "response" | LocalEndCause,
  ): void {
    const seq = this.recordOutcome(status, reason, response === null);
    if (response !== null && !this.finalSent) {
      this.responses ??= new Map();
      this.responses.set(seq, response);
    }
    this.stepFailures ??= new Map();
    const list = this.stepFailures.get(branch.spec.step) ?? [];
    list.push({ status, cause });
    this.stepFailures.set(branch.spec.step, list);
    if (this.reportEvents && branch.target !== null) {
      const eventCause = cause === "response" ? "response" : cause;
      this.emit({
        type: "attempt-failed",
        step: branch.spec.step,
        target: branch.target,
        status: cause === "response" ? status : null,
        cause: eventCause,
      });
      if (cause === "timeout") this.emit({ type: "transaction-timeout", timer: branch.timeoutTimer ?? "B" });
    }
    if (this.plan.kind === "in-dialog") {
      if (!this.finalSent) this.sendFinal(status, reason, response);
      return;
    }
    if (branch.spec.step === this.stepIndex) this.maybeStepOver();
  }

  onBranchDone(_branch: ProxyBranch): void {
    this.checkFinished();
    // A failed-over or cancelled branch that ends after the 2xx may leave the call quiet.
    if (this.answered) this.retireIfQuiet();
  }

  // ---- sending upstream ---------------------------------------------------------------------

  private recordOutcome(status: number, reason: string, local: boolean): number {
    const seq = this.seq++;
    this.outcomes.push({ status, reason, local, seq });
    return seq;
  }

  /** Forwards a downstream response upstream through the server transaction (our Via removed, §16.7 step 3). */
  private relay(response: SipResponse): void {
    this.server.respond(response.status, this.upstreamCopy(response).serialize());
  }

  /** A response's upstream copy (caller-view.ts); the caller's view is taken from the request once. */
  private upstreamCopy(response: SipResponse): SipResponse {
    if (this.plan.kind === "routed") this.callerView ??= takeCallerView(this.request);
    return upstreamCopy(response, this.callerView);
  }

  private sendFinal(status: number, reason: string, response: SipResponse | null): void {
    this.finalSent = true;
    this.clearFailoverTimer();
    if (response !== null && response.status === status) {
      this.relay(response);
    } else {
      const r = createResponse(this.request, status, reason);
      this.server.respond(status, r.serialize());
    }
    if (this.reportEvents && !this.cancelled && status >= 300)
      this.emit({ type: "rejected", status, reason });
    // The choice is made: the responses kept for it are not needed while the transactions linger.
    this.responses = null;
    this.releaseRequest();
    this.checkFinished();
  }

  private clearFailoverTimer(): void {
    this.ctx.timerService.clear(this.failoverTimer);
    this.failoverTimer = null;
  }

  private checkFinished(): void {
    if (this.finished) return;
    // A non-INVITE server transaction answers retransmissions by itself once it has its final
    // response (Timer J, 32 s over UDP): the call does not wait for it, and lets its branches go.
    if (!this.serverDone && !(this.finalSent && this.method !== "INVITE")) return;
    if (this.awaitingDelivery) return;
    if (this.branches.some((b) => !b.done)) return;
    this.finished = true;
    this.clearFailoverTimer();
    // The server transaction's TU (server-transactions.ts) still refers to this call until its
    // last timer: keep nothing heavy here by then.
    this.branches.length = 0;
    this.ctx.callFinished();
  }

  private emit(e: DistributiveOmit<Parameters<ProxyContext["emit"]>[0], "callId" | "at">): void {
    this.ctx.emit({ ...e, callId: this.callId, at: this.ctx.now() } as Parameters<ProxyContext["emit"]>[0]);
  }
}

/**
 * Where a target goes. Over TLS the certificate is checked against the gateway FQDN (RFC 5922
 * §7.2: the configured name, even when the gateway is reached at a configured address), or
 * against the Request-URI host for other targets.
 */
function nativeDestination(target: RouteTarget): Destination {
  const d = target.destination;
  if (d.transport !== "tls") return { host: d.host, port: d.port, transport: d.transport };
  const name = target.gateway ?? uriHost(target.requestUri);
  return name === null || isIP(name) !== 0
    ? { host: d.host, port: d.port, transport: "tls" }
    : { host: d.host, port: d.port, transport: "tls", serverName: name };
}

function uriHost(uri: string): string | null {
  return /^sips?:(?:[^@;>]*@)?(\[[^\]]+\]|[^:;>?]+)/i.exec(uri)?.[1] ?? null;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Requests whose 2xx creates a dialog, so they are record-routed (§16.6 step 4, RFC 6665, RFC 3515). */
export function isDialogCreating(method: string): boolean {
  return method === "INVITE" || method === "SUBSCRIBE" || method === "REFER" || method === "NOTIFY";
}

/** Applies the router's header edits (decision.ts `HeaderEdits`). */
export function applyEdits(r: SipRequest, edits: HeaderEdits | undefined): void {
  if (edits === undefined) return;
  for (const name of edits.remove ?? []) r.removeHeader(name);
  for (const [name, value] of edits.add ?? []) r.addHeader(name, value);
  if (edits.from !== undefined) {
    const tag = r.from?.tag ?? null;
    r.setHeader(
      "From",
      tag !== null && !/;\s*tag=/i.test(edits.from) ? `${edits.from};tag=${tag}` : edits.from,
    );
  }
  if (edits.toUri !== undefined) {
    const display = r.to?.displayName;
    r.setHeader("To", display ? `"${display.replace(/["\\]/g, "")}" <${edits.toUri}>` : `<${edits.toUri}>`);
  }
}
