// The SIP traffic metrics on the drachtio edge: what drachtio-server hands this application,
// counted as the native edge counts what reaches its sockets (native/sip-traffic-observer.ts).
// The difference is where the count is taken: drachtio-server's transaction layer absorbs
// retransmissions, the ACK of a non-2xx final and a gateway's 100 Trying, so those never reach
// the app and are not counted here; everything else received from the network is (new and
// in-dialog requests, CANCEL, the gateways' other responses).
//
// One place sees all of it: the drachtio protocol's `msg` event on the agent's connection,
// before drachtio-srf dispatches the message (srf-types.ts, Agent). Each message starts with a
// leader `id|sip|<source>|...` and CRLF; `source` is `network` for what came from a peer and
// `application` for what an app sent.
import type { SipTrafficObserver } from "../native/sip-traffic-observer.js";
import type { Agent } from "./srf-types.js";

/** Counts the network SIP messages on a (new) drachtio-srf agent; called after each connect. */
export function countReceivedTraffic(agent: Agent, observer: SipTrafficObserver): void {
  agent.wp?.on("msg", (_socket, msg) => countMessage(msg, observer));
}

export function countMessage(msg: string, observer: SipTrafficObserver): void {
  const leaderEnd = msg.indexOf("\r\n");
  if (leaderEnd < 0) return;
  const leader = msg.slice(0, leaderEnd).split("|", 3);
  if (leader[1] !== "sip" || leader[2] !== "network") return;
  const lineEnd = msg.indexOf("\r\n", leaderEnd + 2);
  const startLine = msg.slice(leaderEnd + 2, lineEnd < 0 ? undefined : lineEnd);
  if (startLine.startsWith("SIP/2.0 ")) {
    const status = Number(startLine.slice(8, 11));
    if (Number.isInteger(status)) observer.responseReceived(status);
    return;
  }
  const method = startLine.slice(0, startLine.indexOf(" "));
  if (method !== "") observer.requestReceived(method);
}
