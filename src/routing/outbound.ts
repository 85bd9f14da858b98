// Outbound routing, user → PSTN (routing.md "Outbound"), as a plan in domain terms: the
// normalized number and the ordered gateway attempts, an internal call, or a rejection. The
// router turns a plan into a RoutingDecision; `dialgate route test` prints it.
import type { DirectoryUser } from "../directory/directory.js";
import type { RouteTarget } from "./decision.js";
import type { Normalization } from "./dial-plan-port.js";
import { type EmergencyMatch, matchEmergencyNumber } from "./emergency.js";
import type { PstnGateway } from "./gateways.js";
import { type Header, type Rejection, rejections } from "./responses.js";
import type { RoutingContext } from "./routing-context.js";
import { gatewayDestination, gatewayRequestUri } from "./targets.js";
import { translateNumber } from "./translation.js";
import {
  candidateGateways,
  type GatewayAttempt,
  orderGateways,
  type SkippedGateway,
  selectVoiceRoutes,
} from "./voice-routing.js";

/** The voice routing policy a user without one of their own gets (routing.md step 4). */
export const GLOBAL_POLICY = "Global";

export interface PlannedGatewayAttempt extends GatewayAttempt {
  /** The number after the gateway's outbound PSTN translation rules. */
  readonly number: string;
  readonly translationRule: string | null;
  readonly requestUri: string;
  readonly destination: RouteTarget["destination"];
}

export type OutboundPlan =
  | {
      readonly kind: "pstn";
      readonly dialled: string;
      readonly normalization: Normalization | null;
      readonly emergency: EmergencyMatch | null;
      /** The number routed on: normalized, or the emergency dial string. */
      readonly number: string;
      readonly usage: string;
      readonly attempts: readonly PlannedGatewayAttempt[];
      readonly skipped: readonly SkippedGateway[];
    }
  | {
      readonly kind: "internal";
      readonly dialled: string;
      /** Null when the user was called by SIP address rather than by number. */
      readonly normalization: Normalization | null;
      readonly number: string | null;
      readonly callee: DirectoryUser;
    }
  | {
      readonly kind: "rejected";
      readonly dialled: string;
      readonly normalization: Normalization | null;
      readonly emergency: EmergencyMatch | null;
      readonly status: number;
      readonly reason: string;
      readonly headers: readonly Header[];
      /** Why, for logs and the CLI. */
      readonly detail: string;
    };

export async function planOutboundCall(
  ctx: RoutingContext,
  caller: DirectoryUser,
  dialled: string,
): Promise<OutboundPlan> {
  const tenant = ctx.tables.tenant(caller.tenant.id);
  if (tenant === undefined) {
    return rejected(dialled, null, null, rejections.noRoute(), `tenant '${caller.tenant.id}' has no routing`);
  }
  const cleaned = ctx.dialPlan.clean(dialled);
  if (!cleaned.ok)
    return rejected(dialled, null, null, rejections.invalidNumber(cleaned.error), cleaned.error);

  // Step 2: emergency numbers are recognised on what was dialled, before any dial plan rule
  // could turn 112 into something else, and bypass the voice routing policy.
  const emergencyPolicy = tenant.emergencyCallRoutingPolicy(
    caller.config.emergencyCallRoutingPolicy ?? GLOBAL_POLICY,
  );
  const emergency =
    emergencyPolicy === undefined ? null : matchEmergencyNumber(emergencyPolicy, cleaned.value);
  if (emergency !== null) {
    return routeToGateways(ctx, caller, dialled, null, emergency, emergency.dialString, [emergency.usage]);
  }

  const normalized = ctx.dialPlan.normalize(caller.id, dialled);
  if (!normalized.ok) {
    return rejected(dialled, null, null, rejections.invalidNumber(normalized.error), normalized.error);
  }
  const normalization = normalized.value;
  const number = normalization.translatedNumber;

  // Step 3: reverse number lookup inside the caller's tenant.
  const callee = internalCallee(ctx, caller, number);
  if (callee !== null) return { kind: "internal", dialled, normalization, number, callee };

  // Step 4: the user's policy, else the tenant's Global policy; no policy = no usages.
  const policyName = caller.config.onlineVoiceRoutingPolicy ?? GLOBAL_POLICY;
  const usages = tenant.voiceRoutingPolicy(policyName)?.onlinePstnUsages ?? [];
  return routeToGateways(ctx, caller, dialled, normalization, null, number, usages);
}

function rejected(
  dialled: string,
  normalization: Normalization | null,
  emergency: EmergencyMatch | null,
  r: Rejection,
  detail: string,
): OutboundPlan {
  return { kind: "rejected", dialled, normalization, emergency, ...r, detail };
}

/**
 * The user a normalized number reaches inside the caller's tenant. An exact match (with its
 * `;ext=`) wins; a number dialled without an extension also reaches the one user whose
 * assigned number has that E.164 part with an extension (ambiguous if there are several).
 */
function internalCallee(ctx: RoutingContext, caller: DirectoryUser, number: string): DirectoryUser | null {
  const exact = ctx.directory.userByNumber(caller.tenant.id, number);
  if (exact !== undefined) return exact;
  if (number.includes(";")) return null;
  const byBase = ctx.directory.usersByBaseNumber(caller.tenant.id, number);
  return byBase.length === 1 ? (byBase[0] ?? null) : null;
}

async function routeToGateways(
  ctx: RoutingContext,
  caller: DirectoryUser,
  dialled: string,
  normalization: Normalization | null,
  emergency: EmergencyMatch | null,
  number: string,
  usages: readonly string[],
): Promise<OutboundPlan> {
  const tenant = ctx.tables.tenant(caller.tenant.id);
  const selection = tenant === undefined ? null : selectVoiceRoutes(tenant, usages, number);
  if (selection === null) {
    const detail =
      emergency === null
        ? `no voice route of the usages [${usages.join(", ")}] matches ${number}`
        : `no voice route of emergency usage '${emergency.usage}' matches ${number}`;
    return rejected(dialled, normalization, emergency, rejections.noRoute(), detail);
  }
  // Emergency calls are never refused for capacity (routing.md step 2).
  const atCapacity =
    emergency === null ? await ctx.capacity.atCapacity(candidateGateways(selection, ctx.gateways)) : null;
  const ordering = orderGateways(
    selection,
    ctx.gateways,
    { isHealthy: (g) => ctx.health.isHealthy(g), atCapacity },
    ctx.random,
  );
  if (ordering.attempts.length === 0) {
    const detail = `every gateway of usage '${selection.usage}' is disabled or at capacity`;
    return rejected(dialled, normalization, emergency, rejections.noGatewayAvailable(), detail);
  }
  return {
    kind: "pstn",
    dialled,
    normalization,
    emergency,
    number,
    usage: selection.usage,
    attempts: ordering.attempts.map((a) => planAttempt(ctx, a, number)),
    skipped: ordering.skipped,
  };
}

function planAttempt(ctx: RoutingContext, attempt: GatewayAttempt, number: string): PlannedGatewayAttempt {
  const gateway: PstnGateway = attempt.gateway;
  const translated = translateNumber(ctx.tables, gateway.outboundPstnNumberTranslationRules, number);
  return {
    ...attempt,
    number: translated.number,
    translationRule: translated.rule,
    requestUri: gatewayRequestUri(gateway, translated.number),
    destination: gatewayDestination(gateway),
  };
}
