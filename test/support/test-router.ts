// A scripted CallRouter for end-to-end tests: it records every request it was asked about and
// answers with whatever the test decided, so a test controls steps, targets, failover codes
// and failover timers exactly.
import type {
  AttemptStep,
  CallRouter,
  InboundRequest,
  RouteTarget,
  RoutingDecision,
  SipTransport,
} from "../../src/routing/decision.js";

export type Decide = (request: InboundRequest) => RoutingDecision | Promise<RoutingDecision>;

export class TestRouter implements CallRouter {
  readonly requests: InboundRequest[] = [];

  constructor(private decide: Decide = () => ({ kind: "respond", status: 404, reason: "Not Found" })) {}

  /** Changes the script (e.g. between tests sharing one proxy). */
  script(decide: Decide): void {
    this.decide = decide;
  }

  route(request: InboundRequest): RoutingDecision | Promise<RoutingDecision> {
    this.requests.push(request);
    if (request.method === "OPTIONS" && request.addressedToProxy)
      return { kind: "respond", status: 200, reason: "OK" };
    return this.decide(request);
  }
}

/** A loopback gateway target (a SIPp UAS on `port`). */
export function loopbackTarget(
  port: number,
  options: { transport?: SipTransport; user?: string; label?: string } = {},
): RouteTarget {
  const transport = options.transport ?? "udp";
  const user = options.user ?? "+14255550100";
  return {
    requestUri: `sip:${user}@127.0.0.1:${port}${transport === "udp" ? "" : `;transport=${transport}`};user=phone`,
    destination: { host: "127.0.0.1", port, transport },
    label: options.label ?? `gw-${port}`,
    gateway: options.label ?? `gw-${port}.test`,
  };
}

/** One serial step per target (the usual gateway failover). */
export function serialSteps(
  targets: readonly RouteTarget[],
  failoverResponseCodes: readonly number[] = [408, 503, 504],
  failoverTimeoutMs: number | null = null,
): AttemptStep[] {
  return targets.map((t) => ({ targets: [t], failoverResponseCodes, failoverTimeoutMs }));
}

export function forward(steps: readonly AttemptStep[]): RoutingDecision {
  return { kind: "forward", steps, call: null };
}
