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
  | (CallEventBase & { readonly type: "ended"; readonly by: "caller" | "callee" })
  /** A transaction timed out (Timer B/F/H, or Timer C with no answer). */
  | (CallEventBase & { readonly type: "transaction-timeout"; readonly timer: string });

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
