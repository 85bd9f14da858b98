// The call router: the request pipeline identify → authorize → limit → route, for every new
// dialog-creating or out-of-dialog request the edge hands over (decision.ts).
import type { RegistrationStore } from "../directory/registrations.js";
import type { Logger } from "../util/logger.js";
import { lazyRequestLog, type RequestLog } from "../util/request-log.js";
import type { DigestAuthenticator } from "./auth/digest.js";
import { authorizeUser } from "./authorize.js";
import type { CallRouter, InboundRequest, RoutingDecision } from "./decision.js";
import { type IdentifyDeps, identifyCaller } from "./identify.js";
import { routeInboundCall } from "./inbound.js";
import { OPTIONS_OK, optionsGateway } from "./options.js";
import { planOutboundCall } from "./outbound.js";
import { outboundDecision } from "./outbound-decision.js";
import { handleRegister, type RegistrarSettings } from "./registrar.js";
import { reject, rejections, respond } from "./responses.js";
import type { RoutingContext } from "./routing-context.js";

export interface RouterParts {
  readonly ctx: RoutingContext;
  readonly identify: IdentifyDeps;
  readonly digest: DigestAuthenticator;
  readonly registrar: RegistrarSettings;
  readonly registrations: RegistrationStore;
  readonly logger: Logger;
}

export class DialgateCallRouter implements CallRouter {
  constructor(private readonly parts: RouterParts) {}

  async route(request: InboundRequest): Promise<RoutingDecision> {
    const log = lazyRequestLog(this.parts.logger, () => ({ callId: request.callId, method: request.method }));
    try {
      const decision = await this.dispatch(request, log);
      if (decision.kind === "respond") log.debug({ status: decision.status }, "answered by the router");
      else log.debug({ steps: decision.steps.length, direction: decision.call?.direction }, "forwarding");
      return decision;
    } catch (err) {
      // A shared store that cannot take a write (Redis down, src/store/redis) is an outage, not
      // a bug: 503 with Retry-After, so the phone retries (RFC 3261 §21.5.4).
      if ((err as { code?: unknown }).code === "store_unavailable") {
        log.warn({ err: (err as Error).message }, "state store unavailable");
        return respond(503, "Service Unavailable", [
          ["Retry-After", "30"],
          ["Warning", '399 dialgate "shared state store unavailable; try again"'],
        ]);
      }
      // A bug must not take the call down silently: answer 500 and say what happened.
      log.error({ err }, "routing failed");
      return respond(500, "Server Internal Error");
    }
  }

  private async dispatch(request: InboundRequest, log: RequestLog): Promise<RoutingDecision> {
    switch (request.method.toUpperCase()) {
      case "INVITE":
        return this.invite(request, log);
      case "REGISTER":
        return this.register(request, log);
      case "OPTIONS":
        return this.options(request, log);
      default:
        return this.other(request);
    }
  }

  private async invite(request: InboundRequest, log: RequestLog): Promise<RoutingDecision> {
    const { ctx } = this.parts;
    const caller = identifyCaller(this.parts.identify, request);
    if (caller.kind === "unknown") {
      log.info({ source: request.source.address, why: caller.why }, "refused: unknown caller");
      return reject(rejections.forbidden(caller.why));
    }
    if (caller.kind === "gateway") {
      const decision = await routeInboundCall(ctx, caller.gateway, request);
      if (decision.kind === "respond") {
        log.info(
          { gateway: caller.gateway.fqdn, number: request.requestUri.user, status: decision.status },
          "inbound call refused",
        );
      }
      return decision;
    }

    const auth = authorizeUser(
      this.parts.digest,
      request,
      caller.user,
      caller.trustedSource,
      "proxy",
      ctx.clock.now(),
      log,
    );
    if (!auth.ok) return auth.decision;

    // A call to a user by SIP address (not a number) inside the tenant goes straight to them.
    const uri = request.requestUri;
    if (uri.user !== null && uri.params.get("user")?.toLowerCase() !== "phone") {
      const callee = ctx.directory.userByAddress(uri.user, uri.host);
      if (callee !== undefined && callee.tenant === caller.user.tenant) {
        const plan = {
          kind: "internal",
          dialled: uri.user,
          normalization: null,
          number: null,
          callee,
        } as const;
        return outboundDecision(ctx, plan, caller.user, request, auth.via === "digest");
      }
    }

    const dialled = uri.user;
    if (dialled === null || dialled === "") {
      const why = "no number in the Request-URI";
      const plan = {
        kind: "rejected",
        dialled: "",
        normalization: null,
        emergency: null,
        detail: why,
      } as const;
      return outboundDecision(
        ctx,
        { ...plan, ...rejections.invalidNumber(why) },
        caller.user,
        request,
        auth.via === "digest",
      );
    }
    const plan = await planOutboundCall(ctx, caller.user, dialled);
    if (plan.kind === "rejected")
      log.info({ user: caller.user.id, status: plan.status, why: plan.detail }, "call refused");
    return outboundDecision(ctx, plan, caller.user, request, auth.via === "digest");
  }

  private async register(request: InboundRequest, log: RequestLog): Promise<RoutingDecision> {
    const caller = identifyCaller(this.parts.identify, request);
    if (caller.kind !== "user") {
      log.info({ source: request.source.address }, "REGISTER refused: not a user");
      return reject(rejections.forbidden("only users register"));
    }
    const now = this.parts.ctx.clock.now();
    const auth = authorizeUser(
      this.parts.digest,
      request,
      caller.user,
      caller.trustedSource,
      "registrar",
      now,
      log,
    );
    if (!auth.ok) return auth.decision;
    return handleRegister(this.parts.registrations, this.parts.registrar, request, caller.user, now);
  }

  private async options(request: InboundRequest, log: RequestLog): Promise<RoutingDecision> {
    const { ctx } = this.parts;
    const fromGateway = optionsGateway(ctx.gateways, request);
    if (fromGateway.known) {
      if (fromGateway.gateway !== null) ctx.health.recordExchange(fromGateway.gateway);
      return OPTIONS_OK;
    }
    const caller = identifyCaller(this.parts.identify, request);
    if (caller.kind !== "user") return reject(rejections.forbidden("unknown source"));
    if (!request.addressedToProxy)
      return reject(rejections.forbidden("OPTIONS is answered only for the proxy"));
    const auth = authorizeUser(
      this.parts.digest,
      request,
      caller.user,
      caller.trustedSource,
      "proxy",
      ctx.clock.now(),
      log,
    );
    return auth.ok ? OPTIONS_OK : auth.decision;
  }

  private other(request: InboundRequest): RoutingDecision {
    // Out-of-dialog MESSAGE, SUBSCRIBE, ... are not routed; strangers still learn nothing.
    const caller = identifyCaller(this.parts.identify, request);
    if (caller.kind === "unknown") return reject(rejections.forbidden(caller.why));
    return reject(rejections.methodNotAllowed());
  }
}
