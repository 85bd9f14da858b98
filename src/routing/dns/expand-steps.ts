// RFC 3263 §4.3 failover inside one gateway: a gateway step whose destination is the gateway's
// FQDN (no `address`) becomes one serial step per resolved target, in SRV order, each with the
// gateway's own failover codes and timer, so a transport failure, timeout or failover response at
// one SRV target moves on to the next before the next gateway is tried. The Request-URI keeps the
// gateway FQDN (routing.md step 6); TLS still verifies the FQDN (the target keeps `gateway`).
import type { AttemptStep, RouteTarget, RoutingDecision } from "../decision.js";
import type { ResolvedTarget } from "./sip-resolver.js";

export type TargetLookup = (fqdn: string) => readonly ResolvedTarget[] | undefined;

export function expandDnsTargets(decision: RoutingDecision, lookup: TargetLookup): RoutingDecision {
  if (decision.kind !== "forward") return decision;
  let changed = false;
  const steps: AttemptStep[] = [];
  for (const step of decision.steps) {
    const only = step.targets.length === 1 ? step.targets[0] : undefined;
    const resolved = only === undefined ? undefined : resolvedFor(only, lookup);
    if (only === undefined || resolved === undefined) {
      steps.push(step);
      continue;
    }
    changed = true;
    for (const t of resolved) {
      steps.push({
        ...step,
        targets: [{ ...only, destination: { ...only.destination, host: t.address, port: t.port } }],
      });
    }
  }
  return changed ? { ...decision, steps } : decision;
}

function resolvedFor(target: RouteTarget, lookup: TargetLookup): readonly ResolvedTarget[] | undefined {
  if (target.gateway === null) return undefined;
  // Only a destination that is still the FQDN: a configured address is used as it is.
  if (target.destination.host.toLowerCase() !== target.gateway.toLowerCase()) return undefined;
  return lookup(target.gateway);
}
