// Turning an outbound plan into what the edge executes: one serial step per gateway with that
// gateway's failover codes and timer, and the identity / call-history header policy of each
// gateway (routing.md step 6).
import type { DirectoryUser } from "../directory/directory.js";
import type { CallContext, CallDirection, HeaderEdits, InboundRequest, RoutingDecision } from "./decision.js";
import { userDeliveryStep } from "./delivery.js";
import type { OutboundPlan, PlannedGatewayAttempt } from "./outbound.js";
import { rejectCall, rejections } from "./responses.js";
import type { RoutingContext } from "./routing-context.js";
import { nameAddr } from "./sip-address.js";
import { gatewayStep } from "./targets.js";
import { translateNumber } from "./translation.js";

/** RFC 3323 §4.1.1.3 / RFC 3325: the anonymous From used when identity travels in PAI. */
export const ANONYMOUS_FROM = '"Anonymous" <sip:anonymous@anonymous.invalid>';

export async function outboundDecision(
  ctx: RoutingContext,
  plan: OutboundPlan,
  caller: DirectoryUser,
  request: InboundRequest,
  authenticatedByDigest: boolean,
): Promise<RoutingDecision> {
  // A transferred call (it carries Referred-By) is recorded as a transfer (routing.md).
  const transfer = request.header("referred-by").length > 0;
  // Our own realm's credentials are spent here; they are not passed on (RFC 3261 §22.3).
  const common: HeaderEdits | undefined = authenticatedByDigest
    ? { remove: ["Proxy-Authorization"] }
    : undefined;
  const callerNumber = caller.assignedNumber === null ? null : (caller.config.lineUri ?? null);
  const routedNumber =
    plan.kind === "rejected" ? (plan.normalization?.translatedNumber ?? null) : plan.number;
  const context = (direction: CallDirection, extra: Partial<CallContext>): CallContext => {
    const calleeNumber = extra.calleeNumber !== undefined ? extra.calleeNumber : routedNumber;
    return {
      direction,
      tenantId: caller.tenant.id,
      callerUserId: caller.id,
      calleeUserId: null,
      callerNumber,
      dialledNumber: plan.dialled,
      normalizedNumber: routedNumber,
      gatewayFqdn: null,
      calleeNumber,
      userPrincipalName: caller.id,
      userDisplayName: caller.config.displayName ?? null,
      matchingRule: plan.normalization?.matchingRule ?? null,
      effectiveTenantDialPlanName: plan.normalization?.effectiveTenantDialPlanName ?? null,
      pstnUsage: plan.kind === "pstn" ? plan.usage : null,
      gatewayCarrier: null,
      numberCarriers: ctx.carrierNumbers.carriersOf([callerNumber, calleeNumber]),
      ...extra,
    };
  };
  const outDirection = (emergency: boolean): CallDirection =>
    emergency ? "dr_emergency_out" : transfer ? "dr_out_user_transfer" : "dr_out";

  if (plan.kind === "rejected") {
    return rejectCall(plan, context(outDirection(plan.emergency !== null), {}));
  }

  if (plan.kind === "internal") {
    const calleeNumber = plan.callee.config.lineUri ?? plan.number ?? null;
    const call = context(transfer ? "dr_out_user_transfer" : "internal", {
      calleeUserId: plan.callee.id,
      calleeNumber,
      numberCarriers: ctx.carrierNumbers.carriersOf([callerNumber, calleeNumber]),
    });
    const step = await userDeliveryStep(ctx, plan.callee);
    if (step === null) return rejectCall(rejections.notRegistered(), call);
    return {
      kind: "forward",
      steps: [step],
      ...(common ? { headerEdits: common } : {}),
      call,
    };
  }

  const steps = plan.attempts.map((a) =>
    gatewayStep(a.gateway, {
      requestUri: a.requestUri,
      destination: a.destination,
      label: a.gateway.fqdn,
      gateway: a.gateway.fqdn,
      carrier: a.gateway.carrier ?? null,
      voiceRoute: a.route,
      headerEdits: gatewayHeaderEdits(ctx, a, caller, request),
    }),
  );
  return {
    kind: "forward",
    steps,
    ...(common ? { headerEdits: common } : {}),
    call: context(outDirection(plan.emergency !== null), {}),
  };
}

/**
 * Identity toward a gateway: the caller's number (after the gateway's outbound "Teams number"
 * translation rules) in From, or — with forwardPai — in P-Asserted-Identity with an anonymous
 * From and `Privacy: id` (RFC 3325 §9.3, RFC 5379). A client's own PAI/PPI never leaves.
 * Without forwardCallHistory, History-Info and Referred-By are removed.
 */
function gatewayHeaderEdits(
  ctx: RoutingContext,
  attempt: PlannedGatewayAttempt,
  caller: DirectoryUser,
  request: InboundRequest,
): HeaderEdits {
  const gateway = attempt.gateway;
  const remove = ["P-Asserted-Identity", "P-Preferred-Identity"];
  if (!gateway.forwardCallHistory) remove.push("History-Info", "Referred-By");
  const toUri = `sip:${attempt.number}@${gateway.fqdn};user=phone`;

  const lineUri = caller.config.lineUri;
  const identityUri =
    lineUri === undefined
      ? `sip:${caller.id}`
      : `sip:${translateNumber(ctx.tables, gateway.outboundTeamsNumberTranslationRules, lineUri).number}@${ctx.proxyHost};user=phone`;
  const displayName = caller.config.displayName ?? request.from.displayName;
  if (gateway.forwardPai) {
    return {
      remove: [...remove, "Privacy"],
      add: [
        ["P-Asserted-Identity", nameAddr(displayName, identityUri)],
        ["Privacy", "id"],
      ],
      from: ANONYMOUS_FROM,
      toUri,
    };
  }
  return { remove, from: nameAddr(displayName, identityUri), toUri };
}
