// What a response context (ProxyCall) and its branches need from the edge that owns them.
// Kept as an interface so the proxy logic does not depend on sockets.
import type { CallEvent } from "../../calls/events.js";
import type { Logger } from "../../util/logger.js";
import type { SipRequest, SipResponse } from "../index.js";
import type { CallerView } from "./caller-view.js";
import type { InviteClientTransaction } from "./invite-client-transaction.js";
import type { NonInviteClientTransaction } from "./non-invite-client-transaction.js";
import type { ServerTx } from "./server-tx.js";
import type { TimerService } from "./timer-service.js";
import type { TransactionTimers } from "./transaction-timers.js";
import type { TransactionChannel } from "./transaction-user.js";
import type { Destination, ListenAddress, NativeTransport } from "./transport-types.js";

export type ClientTx = InviteClientTransaction<SipResponse> | NonInviteClientTransaction<SipResponse>;

export interface ProxyContext {
  readonly timers: TransactionTimers;
  readonly timerService: TimerService;
  /** Timer C (§16.6 step 11), more than 3 minutes. */
  readonly timerCMs: number;
  readonly logger: Logger;
  /** Wall clock for call events. */
  now(): number;
  emit(event: CallEvent): void;
  /** A channel that sends to `dest` (transport errors reported through `onError`). */
  channelTo(dest: Destination): TransactionChannel;
  /** The local listen address a message to `dest` leaves from, or null (no listener for that transport). */
  localFor(dest: Destination): ListenAddress | null;
  /** A fresh branch for a request derived from `request` (loop hash + unique part). */
  newBranch(request: SipRequest): string;
  /** The Record-Route value for a given local listen address (`sips`: a SIPS URI, §16.6 step 4). */
  recordRouteFor(local: ListenAddress, sips?: boolean): string;
  /** The Via sent-by for a given local listen address. */
  sentByFor(local: ListenAddress): string;
  registerClient(tx: ClientTx): void;
  unregisterClient(tx: ClientTx): void;
  /** Sends a response statelessly towards the Via it carries (2xx arriving after the server transaction ended). */
  forwardResponseStatelessly(response: SipResponse): void;
  /** The call ended: drop it from the edge's tables. */
  callFinished(): void;
  /**
   * Resolves when the CDR of the call this BYE ended is durable (null: nothing to wait for);
   * the BYE's 2xx is forwarded only then (src/calls/call-recorder.ts `recorded`).
   */
  callRecorded?(callId: string): Promise<void> | null;
  /**
   * An answered INVITE is settled and quiet: the edge takes its Accepted server and client
   * transactions into the compact Accepted window (accepted-window.ts). False when it cannot
   * (the transactions are not both Accepted), and the call keeps them.
   */
  retireAnswered(
    server: ServerTx,
    client: InviteClientTransaction<SipResponse>,
    callerView: CallerView | null,
  ): boolean;
  /** A 2xx to an INVITE went upstream: track the dialog. */
  dialogConfirmed(request: SipRequest, response: SipResponse): void;
}

/** RFC 3261 §18.1.1: requests over UDP within 200 bytes of the path MTU go over TCP; 1300 when the MTU is unknown. */
export const UDP_SIZE_LIMIT = 1300;

export function viaTransportName(t: NativeTransport): string {
  return t === "udp" ? "UDP" : t === "tls" ? "TLS" : "TCP";
}

/**
 * The Via the edge puts on a request it sends. Over TLS it carries `alias` (RFC 5923 §5): the
 * peer may send its requests for our sent-by back on the connection this request goes on,
 * which works through NATs and firewalls that let only our connection in; the peer checks our
 * certificate names the sent-by host before doing so (§5). Not over TCP: nothing could prove
 * the alias is ours there (RFC 5923 reuses TLS connections only).
 */
export function ownVia(transport: NativeTransport, sentBy: string, branch: string): string {
  return `SIP/2.0/${viaTransportName(transport)} ${sentBy};branch=${branch};rport${transport === "tls" ? ";alias" : ""}`;
}
