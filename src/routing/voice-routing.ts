// Voice routing (routing.md "Outbound", step 4): voice routing policy → PSTN usages in order →
// the first usage with a matching voice route → its matching routes by priority → each
// route's gateways, shuffled, with disabled, full and already-listed gateways left out and
// unhealthy ones moved last. The result is the ordered list of gateway attempts.
import type { RandomSource } from "../util/clock.js";
import type { GatewayDirectory, PstnGateway } from "./gateways.js";
import type { TenantRouting, VoiceRoute } from "./routing-tables.js";
import { shuffled } from "./shuffle.js";

export interface RouteSelection {
  /** The PSTN usage that decided the call (as written in the policy). */
  readonly usage: string;
  /** Matching routes of that usage, best (lowest priority value) first. */
  readonly routes: readonly VoiceRoute[];
}

/**
 * The first usage (in the given order) that has at least one voice route matching `number`.
 * Later usages are never consulted, even if every gateway of this one fails later.
 */
export function selectVoiceRoutes(
  tenant: TenantRouting,
  usages: readonly string[],
  number: string,
): RouteSelection | null {
  for (const usage of usages) {
    const key = usage.toLowerCase();
    const routes = tenant.voiceRoutes
      .filter((r) => r.pstnUsages.has(key) && r.numberPattern.test(number))
      .sort((a, b) => a.priority - b.priority || a.definitionOrder - b.definitionOrder);
    if (routes.length > 0) return { usage, routes };
  }
  return null;
}

export interface GatewayAttempt {
  readonly usage: string;
  readonly route: string;
  readonly gateway: PstnGateway;
  readonly healthy: boolean;
}

export type SkipReason = "disabled" | "at-capacity" | "unknown" | "duplicate";

export interface SkippedGateway {
  readonly route: string;
  readonly fqdn: string;
  readonly why: SkipReason;
}

export interface GatewayOrdering {
  readonly attempts: readonly GatewayAttempt[];
  readonly skipped: readonly SkippedGateway[];
}

export interface GatewayState {
  isHealthy(gateway: PstnGateway): boolean;
  /** Already answered by the capacity port for this call (null: capacity is not enforced). */
  readonly atCapacity: ReadonlySet<string> | null;
}

export function orderGateways(
  selection: RouteSelection,
  gateways: GatewayDirectory,
  state: GatewayState,
  random: RandomSource,
): GatewayOrdering {
  const attempts: GatewayAttempt[] = [];
  const skipped: SkippedGateway[] = [];
  const listed = new Set<string>();
  for (const route of selection.routes) {
    const usable: PstnGateway[] = [];
    for (const fqdn of route.gatewayFqdns) {
      const gateway = gateways.get(fqdn);
      let why: SkipReason | null = null;
      if (gateway === undefined) why = "unknown";
      else if (listed.has(gateway.fqdn)) why = "duplicate";
      // enabled: false drains the gateway: calls in progress go on, no new call goes to it.
      else if (!gateway.enabled) why = "disabled";
      else if (state.atCapacity?.has(gateway.fqdn)) why = "at-capacity";
      if (why !== null || gateway === undefined) {
        skipped.push({ route: route.identity, fqdn, why: why ?? "unknown" });
        continue;
      }
      listed.add(gateway.fqdn);
      usable.push(gateway);
    }
    // Shuffle spreads the load over a route's gateways; the stable partition after it keeps
    // that spread among the healthy ones and puts unhealthy ones last, as backups.
    const order = shuffled(usable, random).map((gateway) => ({
      usage: selection.usage,
      route: route.identity,
      gateway,
      healthy: state.isHealthy(gateway),
    }));
    attempts.push(...order.filter((a) => a.healthy), ...order.filter((a) => !a.healthy));
  }
  return { attempts, skipped };
}

/** Every gateway the selected routes could use (to ask the capacity port once per call). */
export function candidateGateways(selection: RouteSelection, gateways: GatewayDirectory): PstnGateway[] {
  const out = new Map<string, PstnGateway>();
  for (const r of selection.routes) {
    for (const fqdn of r.gatewayFqdns) {
      const g = gateways.get(fqdn);
      if (g?.enabled) out.set(g.fqdn, g);
    }
  }
  return [...out.values()];
}
