// A routed INVITE carried as a B2BUA over drachtio-server: the caller's dialog (UAS) and one
// UAC attempt per target, looped over the router's steps (the shape of jambonz's sbc-outbound).
//
// Why a B2BUA here and not `srf.proxyRequest`: the failover rules (routing.md) need control of
// every attempt -- fail over only on the step's failover codes, on transport failure, or when
// no provisional above 100 arrives within the failover time (then give up on that attempt at
// once and CANCEL it, as the native edge's ProxyBranch.cancel does) -- and
// the router's header edits (From rewritten to the caller's number, To translated, identity
// headers removed) must reach the gateway. drachtio-server's proxy can do neither: it forks or
// serialises over a list with its own rules (any non-2xx moves on; `forking: 'parallel'` even
// runs serially) and forwards headers untouched, and the app never sees BYE, only CDR events.
// The cost is a second dialog per call (the gateway sees drachtio's Call-ID, Via and Contact),
// which callers cannot tell apart: Request-URI, From/To, status codes and failover match the
// native edge, and the call events are the same, so are the CDRs.
import type { CallRecordDurability } from "../../calls/call-recorder.js";
import type { CallEvent, RtpStatHeader } from "../../calls/events.js";
import type { AttemptStep, CallContext, HeaderEdits, RouteTarget } from "../../routing/decision.js";
import type { Logger } from "../../util/logger.js";
import type { SipRequest } from "../index.js";
import { chooseBestResponse, type FinalOutcome, upstreamStatus } from "../native/best-response.js";
import { applyEdits } from "../native/proxy-call.js";
import { holdByeAnswer } from "./bye-answer.js";
import { uacHeaders } from "./headers.js";
import {
  isLocalResponse,
  isSipError,
  type Srf,
  type SrfDialog,
  type SrfMessage,
  type SrfReceivedResponse,
  type SrfRequest,
  type SrfResponse,
} from "./srf-types.js";

type EventBody = CallEvent extends infer E ? (E extends unknown ? Omit<E, "callId" | "at"> : never) : never;

export interface B2buaDeps {
  readonly srf: Srf;
  readonly log: Logger;
  emit(event: EventBody): void;
  /** The call is over (no attempt pending, no dialog up). */
  finished(): void;
  /** The call recorder: the 200 to a BYE waits for the call's CDR to be durable. */
  readonly callRecords?: CallRecordDurability;
}

export interface B2buaPlan {
  readonly steps: readonly AttemptStep[];
  readonly headerEdits: HeaderEdits | undefined;
  readonly call: CallContext | null;
}

type EndCause = "response" | "timeout" | "transport" | "failover-timer" | "cancelled";

interface Attempt {
  readonly target: RouteTarget;
  readonly step: number;
  sent: SrfRequest | null;
  /** Why we gave up on it (set before the INVITE may even be on the wire). */
  cancelWanted: "failover-timer" | "cancelled" | null;
  ringing: boolean;
  /**
   * Its outcome is known: a final response, or our decision to give up on it (then later
   * responses on its leg are only cleaned up: a late 200 is hung up, a 487 absorbed).
   */
  settled: boolean;
}

/** The headers of a response worth passing to the caller with the status they explain. */
const PASSED_RESPONSE_HEADERS = ["Reason", "Warning", "Retry-After"];

export class B2buaCall {
  private readonly attempts: Attempt[] = [];
  private readonly outcomes: (FinalOutcome & { headers: Record<string, string> })[] = [];
  private readonly stepFailures = new Map<number, { status: number; cause: EndCause }[]>();
  private stepIndex = -1;
  private failoverTimer: NodeJS.Timeout | null = null;
  private answered = false;
  private finalSent = false;
  private cancelled = false;
  private launching = false;
  private done = false;
  private dialogs: { uas: SrfDialog; uac: SrfDialog } | null = null;
  private seq = 0;

  constructor(
    private readonly deps: B2buaDeps,
    /** The caller's Call-ID (the key of the call's events and CDR records). */
    readonly callId: string,
    private readonly req: SrfRequest,
    private readonly res: SrfResponse,
    /** The request as dialgate parsed it, Max-Forwards already decremented. */
    private readonly request: SipRequest,
    private readonly plan: B2buaPlan,
  ) {}

  start(): void {
    this.req.on("cancel", () => this.cancelByCaller());
    this.deps.emit({ type: "received", method: "INVITE", call: this.plan.call });
    this.startStep(0);
  }

  /** The call is answered and its two dialogs are up. */
  get inDialog(): boolean {
    return this.dialogs !== null;
  }

  /** The gateway leg's Call-ID (drachtio-server's own), once answered: its CDR events use it. */
  get calleeCallId(): string | null {
    return this.dialogs?.uac.sip.callId ?? null;
  }

  /** drachtio-server reported the call over (cdr:stop) and no BYE reached us (cdr-reconciler.ts). */
  closeStale(by: "caller" | "callee"): void {
    if (this.dialogs === null) return;
    const { uas, uac } = this.dialogs;
    this.dialogs = null;
    this.deps.emit({ type: "ended", by });
    this.bye(uas);
    this.bye(uac);
    this.finish();
  }

  /** Ends an answered call from our side (shutdown). */
  hangUp(): void {
    if (this.dialogs === null) return;
    const { uas, uac } = this.dialogs;
    this.dialogs = null;
    this.bye(uas);
    this.bye(uac);
    this.finish();
  }

  // ---- the search over the steps (routing.md, failover) ------------------------------------

  private startStep(index: number): void {
    const step = this.plan.steps[index];
    if (step === undefined || step.targets.length === 0) {
      this.finishSearch();
      return;
    }
    this.stepIndex = index;
    this.launching = true;
    for (const target of step.targets) this.launch(target, index);
    this.launching = false;
    if (this.finalSent || this.answered) return;
    if (step.failoverTimeoutMs !== null && this.pendingInStep().length > 0)
      this.failoverTimer = setTimeout(() => this.onFailoverTimer(), step.failoverTimeoutMs);
    this.maybeStepOver();
  }

  private launch(target: RouteTarget, step: number): void {
    const attempt: Attempt = { target, step, sent: null, cancelWanted: null, ringing: false, settled: false };
    this.attempts.push(attempt);
    let headers: Record<string, string>;
    try {
      const r = this.request.clone();
      r.setRequestUri(target.requestUri);
      applyEdits(r, this.plan.headerEdits);
      applyEdits(r, target.headerEdits);
      headers = uacHeaders(r);
    } catch (err) {
      // A header edit that would break the message (CR/LF): a router bug, reported as 500.
      this.deps.log.error({ err: (err as Error).message, target: target.label }, "cannot apply header edits");
      attempt.settled = true;
      this.recordOutcome(500, "Server Internal Error", true, {});
      return;
    }
    this.deps.emit({ type: "attempt-sent", step, target });
    const d = target.destination;
    const transport = d.transport === "udp" ? "" : `;transport=${d.transport}`;
    const host = d.host.includes(":") && !d.host.startsWith("[") ? `[${d.host}]` : d.host;
    this.deps.srf
      .createUAC(
        target.requestUri,
        {
          headers,
          ...(this.req.body ? { localSdp: this.req.body } : {}),
          proxy: `sip:${host}:${d.port}${transport}`,
        },
        {
          cbRequest: (err, sent) => {
            if (err || sent === undefined) return;
            attempt.sent = sent;
            if (attempt.cancelWanted !== null) this.sendCancel(sent);
          },
          cbProvisional: (p) => this.onProvisional(attempt, p),
        },
      )
      .then(
        (uac) => this.onAnswered(attempt, uac),
        (err: unknown) => this.onAttemptFailed(attempt, err),
      );
  }

  private onProvisional(attempt: Attempt, p: SrfReceivedResponse): void {
    if (p.status <= 100 || attempt.settled) return;
    attempt.ringing = true;
    if (attempt.step === this.stepIndex) this.clearFailoverTimer();
    this.deps.emit({ type: "provisional", step: attempt.step, target: attempt.target, status: p.status });
    if (this.finalSent || this.answered || this.cancelled) return;
    // §16.7 step 5 in B2BUA form: the caller hears the ringing (and early media) of the attempt.
    const opts = p.body
      ? { body: p.body, headers: { "Content-Type": p.get("Content-Type") ?? "application/sdp" } }
      : {};
    this.sendToCaller(p.status, p.reason, opts);
  }

  private onAnswered(attempt: Attempt, uac: SrfDialog): void {
    const abandoned = attempt.settled;
    attempt.settled = true;
    if (abandoned || this.answered || this.finalSent || this.cancelled) {
      // A second fork answered, the caller gave up, or this attempt was given up (failover
      // timer) and its 200 crossed our CANCEL: drachtio-srf has ACKed it, and the dialog is
      // not wanted. Hanging it up is what keeps the gateway from billing a call nobody hears.
      this.bye(uac);
      this.checkDone();
      return;
    }
    this.answered = true;
    this.clearFailoverTimer();
    this.deps.emit({
      type: "answered",
      step: attempt.step,
      target: attempt.target,
      status: 200,
      reason: "OK",
    });
    // §16.7 step 10: the other pending attempts are CANCELled.
    for (const a of this.attempts) if (a !== attempt && !a.settled) this.cancelAttempt(a, "cancelled");
    this.deps.srf
      .createUAS(this.req, this.res, { localSdp: uac.remote.sdp })
      .then((uas) => {
        this.finalSent = true;
        // drachtio-srf resolves createUAS when our 200 has gone out, a microtask after the
        // message that says so: a BYE read in the same chunk (a caller that hangs up right
        // after its ACK), or the callee's BYE while the 200 was on its way, has already
        // fired `destroy` with nobody listening. Such a leg is no longer connected.
        if (!uas.connected || !uac.connected) {
          const by = uas.connected ? "callee" : "caller";
          this.deps.emit({ type: "ended", by });
          this.bye(by === "caller" ? uac : uas);
          this.finish();
          return;
        }
        this.dialogs = { uas, uac };
        const records = this.deps.callRecords;
        if (records !== undefined) {
          holdByeAnswer(uas, this.callId, records);
          holdByeAnswer(uac, this.callId, records);
        }
        this.bridge(uas, uac);
      })
      .catch((err: unknown) => {
        // The caller is gone (its CANCEL crossed our 200, or the ACK never came): end the callee.
        this.deps.log.info({ err: errorText(err) }, "caller leg failed after the answer");
        this.finalSent = true;
        this.bye(uac);
        this.deps.emit({ type: "ended", by: "caller" });
        this.finish();
      });
  }

  /**
   * Ends one leg with a BYE. drachtio-server may no longer have the dialog (it tore it down and
   * told us by cdr:stop, or it restarted): that failure is expected and only logged.
   */
  private bye(dialog: SrfDialog): void {
    try {
      dialog.destroy({}, (err) => {
        if (err) this.deps.log.debug({ err: errorText(err) }, "BYE not sent: the dialog is already gone");
      });
    } catch (err) {
      this.deps.log.debug({ err: errorText(err) }, "BYE not sent: the dialog is already gone");
    }
  }

  private bridge(uas: SrfDialog, uac: SrfDialog): void {
    uas.on("destroy", (bye) => {
      if (this.dialogs === null) return;
      this.dialogs = null;
      this.deps.emit({ type: "ended", by: "caller", ...rtpStatsOf(bye) });
      this.bye(uac);
      this.finish();
    });
    uac.on("destroy", (bye) => {
      if (this.dialogs === null) return;
      this.dialogs = null;
      this.deps.emit({ type: "ended", by: "callee", ...rtpStatsOf(bye) });
      this.bye(uas);
      this.finish();
    });
    // Re-INVITEs (hold, codec change) and INFO (DTMF) pass through to the other leg.
    const relayModify = (to: SrfDialog) => (req: SrfRequest, res: SrfResponse) => {
      to.modify(req.body).then(
        (sdp) => res.send(200, "OK", { body: sdp, headers: { "Content-Type": "application/sdp" } }),
        (err: unknown) => res.send(isSipError(err) ? err.status : 500),
      );
    };
    uas.on("modify", relayModify(uac));
    uac.on("modify", relayModify(uas));
    const relayInfo = (to: SrfDialog) => (req: SrfRequest, res: SrfResponse) => {
      const type = req.get("Content-Type");
      to.request({
        method: "INFO",
        body: req.body,
        ...(type ? { headers: { "Content-Type": type } } : {}),
      }).then(
        (r) => res.send(r.status),
        () => res.send(500),
      );
    };
    uas.on("info", relayInfo(uac));
    uac.on("info", relayInfo(uas));
  }

  private onAttemptFailed(attempt: Attempt, err: unknown): void {
    // Given up already (failover timer, CANCEL): its 487, or Timer B's 408, changes nothing.
    if (attempt.settled) return;
    const res = isSipError(err) ? err.res : undefined;
    const status = isSipError(err) ? err.status : 503;
    const reason = isSipError(err) ? err.reason : "Service Unavailable";
    let cause: EndCause = "response";
    if (!isSipError(err) || isLocalResponse(res)) {
      // drachtio-server (sofia) made the final up: Timer B (408) or a transport failure.
      cause = status === 408 ? "timeout" : "transport";
      if (!isSipError(err)) this.deps.log.warn({ err: errorText(err) }, "attempt could not be sent");
    }
    this.settle(attempt, status, reason, cause, cause === "response" ? passedHeaders(res) : {});
  }

  /** The attempt's outcome is known: record it, report it, and see whether the step is over. */
  private settle(
    attempt: Attempt,
    status: number,
    reason: string,
    cause: EndCause,
    headers: Record<string, string>,
  ): void {
    attempt.settled = true;
    this.recordOutcome(status, reason, cause !== "response", headers);
    const list = this.stepFailures.get(attempt.step) ?? [];
    list.push({ status, cause });
    this.stepFailures.set(attempt.step, list);
    this.deps.emit({
      type: "attempt-failed",
      step: attempt.step,
      target: attempt.target,
      status: cause === "response" ? status : null,
      cause,
    });
    if (cause === "timeout") this.deps.emit({ type: "transaction-timeout", timer: "B" });
    if (attempt.step === this.stepIndex) this.maybeStepOver();
    this.checkDone();
  }

  private onFailoverTimer(): void {
    this.failoverTimer = null;
    if (this.finalSent || this.answered) return;
    // routing.md: no provisional above 100 within the failover time: CANCEL and go on.
    for (const a of this.pendingInStep()) if (!a.ringing) this.cancelAttempt(a, "failover-timer");
  }

  /**
   * Gives up on an attempt (the failover timer, the caller's CANCEL, §16.7 step 10 after a 200
   * elsewhere) and counts it as ended now, as the native edge's ProxyBranch.cancel does: a
   * gateway that sent nothing at all cannot be CANCELled yet (§9.1), and waiting for its 487
   * or for Timer B (32 s in drachtio-server) would hold the failover that long. What its leg
   * still reports is cleaned up: a late 200 is ACKed and hung up (onAnswered), a final absorbed.
   */
  private cancelAttempt(a: Attempt, why: "failover-timer" | "cancelled"): void {
    if (a.settled || a.cancelWanted !== null) return;
    a.cancelWanted = why;
    // Not on the wire yet: cbRequest sends the CANCEL as soon as it is.
    if (a.sent !== null) this.sendCancel(a.sent);
    if (why === "failover-timer") this.settle(a, 408, "Request Timeout", "failover-timer", {});
    else this.settle(a, 487, "Request Terminated", "cancelled", {});
  }

  /** drachtio-server may refuse the CANCEL (the transaction already ended): nothing to undo then. */
  private sendCancel(sent: SrfRequest): void {
    try {
      sent.cancel((err) => {
        if (err) this.deps.log.debug({ err: errorText(err) }, "CANCEL not sent");
      });
    } catch (err) {
      this.deps.log.debug({ err: errorText(err) }, "CANCEL not sent");
    }
  }

  private pendingInStep(): Attempt[] {
    return this.attempts.filter((a) => a.step === this.stepIndex && !a.settled);
  }

  private maybeStepOver(): void {
    if (this.launching || this.finalSent || this.answered || this.cancelled) return;
    if (this.pendingInStep().length > 0) return;
    this.clearFailoverTimer();
    if (this.stepAllowsFailover() && this.stepIndex + 1 < this.plan.steps.length) {
      this.startStep(this.stepIndex + 1);
      return;
    }
    this.finishSearch();
  }

  /** routing.md: fail over only when every target failed with a failover code, the timer, or transport. */
  private stepAllowsFailover(): boolean {
    const step = this.plan.steps[this.stepIndex];
    const failures = this.stepFailures.get(this.stepIndex) ?? [];
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
      this.sendFinal(408, "Request Timeout", {});
      return;
    }
    const { status, reason } = upstreamStatus(best);
    const kept = this.outcomes.find((o) => o.seq === best.seq);
    this.sendFinal(status, reason, status === best.status ? (kept?.headers ?? {}) : {});
  }

  private cancelByCaller(): void {
    if (this.finalSent || this.cancelled || this.answered) return;
    this.cancelled = true;
    this.clearFailoverTimer();
    for (const a of this.attempts) this.cancelAttempt(a, "cancelled");
    // drachtio-server has answered the CANCEL with 200; the INVITE gets its 487 here, now,
    // rather than after every attempt's 487 (an attempt not yet ringing cannot be CANCELled).
    this.sendToCaller(487, "Request Terminated", {});
    this.finalSent = true;
    this.deps.emit({ type: "cancelled" });
    this.checkDone();
  }

  // ---- the caller's side ---------------------------------------------------------------------

  private sendFinal(status: number, reason: string, headers: Record<string, string>): void {
    this.finalSent = true;
    this.clearFailoverTimer();
    this.sendToCaller(status, reason, Object.keys(headers).length > 0 ? { headers } : {});
    if (!this.cancelled && status >= 300) this.deps.emit({ type: "rejected", status, reason });
    this.checkDone();
  }

  private sendToCaller(
    status: number,
    reason: string,
    opts: { headers?: Record<string, string>; body?: string },
  ): void {
    if (this.res.finalResponseSent) return;
    try {
      this.res.send(status, reason, opts);
    } catch (err) {
      this.deps.log.debug({ err: errorText(err), status }, "cannot answer the caller");
    }
  }

  private recordOutcome(
    status: number,
    reason: string,
    local: boolean,
    headers: Record<string, string>,
  ): void {
    this.outcomes.push({ status, reason, local, seq: this.seq++, headers });
  }

  private clearFailoverTimer(): void {
    if (this.failoverTimer !== null) clearTimeout(this.failoverTimer);
    this.failoverTimer = null;
  }

  /** Finished once the caller has its final and no attempt is pending (and no dialog is up). */
  private checkDone(): void {
    if (this.dialogs !== null || this.answered) return;
    if (!this.finalSent || this.attempts.some((a) => !a.settled)) return;
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.clearFailoverTimer();
    this.deps.finished();
  }
}

function passedHeaders(res: SrfReceivedResponse | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (res === undefined) return out;
  for (const name of PASSED_RESPONSE_HEADERS) {
    const v = res.get(name);
    if (v !== undefined && v !== "") out[name] = v;
  }
  return out;
}

/** The BYE's vendor RTP statistics headers, handed over as the native edge does (quality-handover.ts). */
function rtpStatsOf(bye: SrfMessage | undefined): { rtpStats?: RtpStatHeader[] } {
  const stats: RtpStatHeader[] = [];
  if (bye === undefined || typeof bye.get !== "function") return {};
  for (const name of ["X-RTP-Stat", "P-RTP-Stat"] as const) {
    const v = bye.get(name);
    if (v !== undefined && v !== "") stats.push({ name, value: v });
  }
  return stats.length > 0 ? { rtpStats: stats } : {};
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
