// RFC 3263 §4.3 failover inside one gateway: a gateway step whose destination is the gateway's
// FQDN (no `address`) becomes one serial step per resolved target, in SRV order drawn for this
// call, each with the gateway's own failover codes and timer, so a transport failure, timeout or
// failover response at one SRV target moves on to the next before the next gateway is tried. The
// Request-URI keeps the gateway FQDN (routing.md step 6); TLS still verifies the FQDN (the target
// keeps `gateway`).
//
// A gateway with no target known (never resolved yet, or DNS has none) is skipped like a
// transport failure: its FQDN is never handed to the transport, whose system resolver would
// bypass `sip.dnsServers`. A gateway not resolved yet is looked up first, through those servers;
// only then does the call wait on DNS.
import type { AttemptStep, RouteTarget, RoutingDecision } from "../decision.js";
import type { ResolvedTarget } from "./sip-resolver.js";

/** What the expansion needs of the DNS book (src/routing/dns/gateway-targets.ts). */
export interface DnsTargetBook {
  /** Whether the gateway with this FQDN is located by DNS. */
  resolves(fqdn: string): boolean;
  /** Its targets in this call's order, or undefined while none is known. */
  targetsOf(fqdn: string): readonly ResolvedTarget[] | undefined;
  /** The same, looked up now when the gateway was never resolved. */
  targetsNow(fqdn: string): Promise<readonly ResolvedTarget[] | undefined>;
}

/** The decision with DNS gateways expanded; a promise only when a gateway must be looked up first. */
export function expandDnsTargets(
  decision: RoutingDecision,
  book: DnsTargetBook | null,
): RoutingDecision | Promise<RoutingDecision> {
  if (decision.kind !== "forward" || book === null) return decision;
  // Per step: the FQDN of its DNS-located gateway, or null (worked out once per call).
  const stepFqdns = decision.steps.map((step) => dnsGateway(step, book));
  const known = new Map<string, readonly ResolvedTarget[] | undefined>();
  const missing: string[] = [];
  for (const fqdn of stepFqdns) {
    if (fqdn === null || known.has(fqdn)) continue;
    const targets = book.targetsOf(fqdn);
    known.set(fqdn, targets);
    if (targets === undefined) missing.push(fqdn);
  }
  if (known.size === 0) return decision;
  if (missing.length === 0) return expand(decision, stepFqdns, known);
  return Promise.all(missing.map(async (fqdn) => known.set(fqdn, await book.targetsNow(fqdn)))).then(() =>
    expand(decision, stepFqdns, known),
  );
}

function expand(
  decision: RoutingDecision & { kind: "forward" },
  stepFqdns: readonly (string | null)[],
  targetsBy: ReadonlyMap<string, readonly ResolvedTarget[] | undefined>,
): RoutingDecision {
  const steps: AttemptStep[] = [];
  for (const [i, step] of decision.steps.entries()) {
    const fqdn = stepFqdns[i] ?? null;
    if (fqdn === null) {
      steps.push(step);
      continue;
    }
    const only = step.targets[0]!;
    for (const t of targetsBy.get(fqdn) ?? []) {
      steps.push({
        ...step,
        targets: [{ ...only, destination: { ...only.destination, host: t.address, port: t.port } }],
      });
    }
  }
  if (steps.length > 0 || decision.steps.length === 0) return { ...decision, steps };
  // RFC 3263 §4.3: every target failed (here: none could be found); nothing else to try.
  return { kind: "respond", status: 503, reason: "Gateway Not Found In DNS", call: decision.call };
}

/** The FQDN of a step's single gateway target that DNS locates, else null. */
function dnsGateway(step: AttemptStep, book: DnsTargetBook): string | null {
  const only: RouteTarget | undefined = step.targets.length === 1 ? step.targets[0] : undefined;
  if (only === undefined || only.gateway === null) return null;
  // Only a destination that is still the FQDN: a configured address is used as it is.
  if (only.destination.host.toLowerCase() !== only.gateway.toLowerCase()) return null;
  return book.resolves(only.gateway) ? only.gateway.toLowerCase() : null;
}
