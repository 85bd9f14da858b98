// Inbound routing, gateway → user (routing.md "Inbound"): the tenant from the gateway, the
// gateway's inbound translation rules, exact reverse number lookup (with `;ext=`), then the
// user's registrations or static contact; unassigned numbers get the tenant's treatment.
import type { TenantConfig } from "../config/schema.js";
import type { Directory } from "../directory/directory.js";
import type { CallContext, HeaderEdits, InboundRequest, RoutingDecision } from "./decision.js";
import { userDeliveryStep } from "./delivery.js";
import type { IdentifiedGateway } from "./gateways.js";
import { rejectCall, rejections } from "./responses.js";
import type { RoutingContext } from "./routing-context.js";
import { nameAddr } from "./sip-address.js";
import { uriStep } from "./targets.js";
import { translateNumber } from "./translation.js";

/**
 * The tenant an inbound call belongs to. A gateway's own `tenant` setting wins; otherwise the
 * tenant owning the FQDN the gateway presented, and if none, the tenant owning that FQDN with
 * its first label stripped (`sbc1.contoso.com` → `contoso.com`), tried once. A derived trunk
 * is looked up by its own subdomain first, since its carrier trunk serves many tenants.
 */
export function tenantOfGateway(
  directory: Directory,
  identified: IdentifiedGateway,
): TenantConfig | undefined {
  const configured = identified.gateway.tenant;
  if (!identified.derived && configured !== undefined) return directory.tenantById(configured);
  const exact = directory.tenantByDomain(identified.fqdn);
  if (exact !== undefined) return exact;
  const dot = identified.fqdn.indexOf(".");
  const parent = dot > 0 ? directory.tenantByDomain(identified.fqdn.slice(dot + 1)) : undefined;
  if (parent !== undefined) return parent;
  return configured === undefined ? undefined : directory.tenantById(configured);
}

export async function routeInboundCall(
  ctx: RoutingContext,
  identified: IdentifiedGateway,
  request: InboundRequest,
): Promise<RoutingDecision> {
  const gateway = identified.gateway;
  const tenant = tenantOfGateway(ctx.directory, identified);
  const called = request.requestUri.user;
  const unknownTenant = (): CallContext => ({
    direction: "dr_in",
    tenantId: null,
    callerUserId: null,
    calleeUserId: null,
    callerNumber: request.from.uri.user,
    dialledNumber: called,
    normalizedNumber: called,
    gatewayFqdn: identified.fqdn,
    calleeNumber: called,
    gatewayCarrier: gateway.carrier ?? null,
    numberCarriers: ctx.carrierNumbers.carriersOf([request.from.uri.user, called]),
  });
  if (tenant === undefined || called === null)
    return rejectCall(rejections.unassignedNumber(), unknownTenant());

  // Inbound "Teams number" rules translate the called number, "PSTN number" rules the caller.
  const translated = translateNumber(ctx.tables, gateway.inboundTeamsNumberTranslationRules, called);
  const callerNumber = request.from.uri.user;
  const callerTranslated =
    callerNumber === null
      ? null
      : translateNumber(ctx.tables, gateway.inboundPstnNumberTranslationRules, callerNumber);
  const headerEdits: HeaderEdits | undefined =
    callerTranslated !== null && callerTranslated.number !== callerNumber
      ? {
          from: nameAddr(
            request.from.displayName,
            `sip:${callerTranslated.number}@${request.from.uri.host}${request.from.uri.params.get("user")?.toLowerCase() === "phone" ? ";user=phone" : ""}`,
          ),
        }
      : undefined;

  const call: CallContext = {
    direction: "dr_in",
    tenantId: tenant.id,
    callerUserId: null,
    calleeUserId: null,
    callerNumber: callerTranslated?.number ?? null,
    dialledNumber: called,
    normalizedNumber: translated.number,
    gatewayFqdn: identified.fqdn,
    calleeNumber: translated.number,
    gatewayCarrier: gateway.carrier ?? null,
    numberCarriers: ctx.carrierNumbers.carriersOf([callerTranslated?.number, translated.number]),
  };

  // Exact reverse number lookup: `+` required and `;ext=` must match the assignment.
  const callee = ctx.directory.userByNumber(tenant.id, translated.number);
  if (callee === undefined) {
    const treatment = tenant.unassignedNumberTreatment;
    const step =
      treatment === undefined ? null : uriStep(treatment.target, "unassigned-number treatment", ctx.gateways);
    if (step === null) return rejectCall(rejections.unassignedNumber(), call);
    return {
      kind: "forward",
      steps: [step],
      ...(headerEdits ? { headerEdits } : {}),
      call: { ...call, direction: "dr_unassigned_in" },
    };
  }
  const toUser: CallContext = {
    ...call,
    calleeUserId: callee.id,
    userPrincipalName: callee.id,
    userDisplayName: callee.config.displayName ?? null,
  };
  const step = await userDeliveryStep(ctx, callee);
  if (step === null) return rejectCall(rejections.notRegistered(), toUser);
  return {
    kind: "forward",
    steps: [step],
    ...(headerEdits ? { headerEdits } : {}),
    call: toUser,
  };
}
