// Call events: what a SIP edge reports about each call it forwards, and what the call
// recorder (CDRs), capacity counters and metrics subscribe to. Both edges emit the same
// events, so a CDR is the same whichever edge carried the call.
import type { CallContext, RouteTarget } from "../routing/decision.js";

interface CallEventBase {
  /** Call-ID of the caller's leg (the key that ties events together). */
  readonly callId: string;
  /** Wall-clock milliseconds when the edge saw it. */
  readonly at: number;
}

export type CallEvent =
  | (CallEventBase & {
      readonly type: "received";
      readonly method: string;
      readonly call: CallContext | null;
    })
  | (CallEventBase & { readonly type: "attempt-sent"; readonly step: number; readonly target: RouteTarget })
  | (CallEventBase & {
      readonly type: "provisional";
      readonly step: number;
      readonly target: RouteTarget;
      readonly status: number;
    })
  | (CallEventBase & {
      readonly type: "answered";
      readonly step: number;
      readonly target: RouteTarget;
      readonly status: number;
      /** dialgate: the 2xx's reason phrase (the CDR's finalSipCodePhrase). */
      readonly reason?: string;
    })
  | (CallEventBase & {
      readonly type: "attempt-failed";
      readonly step: number;
      readonly target: RouteTarget;
      /** Final status, or null for a transport failure / failover timer / cancellation. */
      readonly status: number | null;
      readonly cause: "response" | "failover-timer" | "transport" | "cancelled" | "timeout";
    })
  /** The call ended without being answered (final response sent to the caller). */
  | (CallEventBase & { readonly type: "rejected"; readonly status: number; readonly reason: string })
  | (CallEventBase & { readonly type: "cancelled" })
  | (CallEventBase & {
      readonly type: "ended";
      readonly by: "caller" | "callee";
      /**
       * dialgate: vendor RTP statistics headers on the BYE (`X-RTP-Stat`, `P-RTP-Stat`), as they
       * arrived; the sender is `by`. The edge does not interpret them (src/calls/rtp-stat.ts does).
       */
      readonly rtpStats?: readonly RtpStatHeader[];
    })
  /** A transaction timed out (Timer B/F/H, or Timer C with no answer). */
  | (CallEventBase & { readonly type: "transaction-timeout"; readonly timer: string });

/** One RTP statistics header as it arrived on a BYE. */
export interface RtpStatHeader {
  readonly name: "X-RTP-Stat" | "P-RTP-Stat";
  readonly value: string;
}

export type CallEventListener = (event: CallEvent) => void;

/** A tiny synchronous fan-out: listeners must not throw (errors are caught and reported). */
export class CallEventBus {
  private readonly listeners: CallEventListener[] = [];
  constructor(private readonly onListenerError: (err: unknown, event: CallEvent) => void = () => {}) {}
  subscribe(listener: CallEventListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
  emit(event: CallEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }
}
