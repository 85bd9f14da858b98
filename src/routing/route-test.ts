// What `dialgate route test --json` prints and what `POST /v1/admin/route/test` answers: the
// configuration's plan for a call from a user to a dialled number — the normalized number and the
// ordered gateway attempts (usage, route, gateway, Request-URI), the internal callee, or the
// rejection. Every gateway counts as healthy and below capacity, and no registration is known:
// this shows the configuration, not the live state. One function serves both, so they agree.
import type { DialgateConfig } from "../config/schema.js";
import { InMemoryRegistrationStore } from "../directory/registrations.js";
import { seededRandom, systemClock } from "../util/clock.js";
import { silentLogger } from "../util/logger.js";
import { unlimitedCapacity } from "./capacity.js";
import { createRoutingContext } from "./create-router.js";
import { everyGatewayHealthy } from "./health.js";
import { type OutboundPlan, planOutboundCall } from "./outbound.js";

export type RouteTestOutcome =
  | { readonly ok: true; readonly report: RouteTestReport }
  | { readonly ok: false; readonly code: "unknown_user" | "bad_number"; readonly message: string };

export async function routeTest(
  config: DialgateConfig,
  request: { readonly user: string; readonly number: string; readonly seed: number },
): Promise<RouteTestOutcome> {
  const ctx = createRoutingContext(config, {
    clock: systemClock,
    random: seededRandom(request.seed),
    logger: silentLogger(),
    registrations: new InMemoryRegistrationStore(),
    health: everyGatewayHealthy,
    capacity: unlimitedCapacity,
  });
  const user = ctx.directory.userById(request.user);
  if (user === undefined) {
    return {
      ok: false,
      code: "unknown_user",
      message: `unknown user '${request.user}'; users are identified by their SIP address (tenants[].users[].id)`,
    };
  }
  // A string that cannot be dialled is a usage problem here, not a call to reject.
  const cleaned = ctx.dialPlan.clean(request.number);
  if (!cleaned.ok) return { ok: false, code: "bad_number", message: cleaned.error };
  const normalized = ctx.dialPlan.normalize(user.id, request.number);
  if (!normalized.ok) return { ok: false, code: "bad_number", message: normalized.error };
  const plan = await planOutboundCall(ctx, user, request.number);
  return { ok: true, report: toReport(plan, user.id, user.tenant.id, request.seed) };
}

export interface RouteTestReport {
  readonly user: string;
  readonly tenant: string;
  readonly dialled: string;
  readonly seed: number;
  readonly normalization: Extract<OutboundPlan, { kind: "pstn" }>["normalization"];
  readonly emergency: Extract<OutboundPlan, { kind: "pstn" }>["emergency"];
  readonly outcome: "gateways" | "internal" | "rejected";
  readonly callType: "dr_out" | "dr_emergency_out" | "internal" | null;
  readonly number: string | null;
  readonly usage: string | null;
  readonly attempts: readonly {
    readonly step: number;
    readonly usage: string;
    readonly route: string;
    readonly gateway: string;
    readonly requestUri: string;
    readonly destination: string;
    readonly translationRule: string | null;
    readonly failoverResponseCodes: readonly number[];
    readonly failoverTimeSeconds: number;
  }[];
  readonly skipped: readonly { readonly route: string; readonly gateway: string; readonly why: string }[];
  readonly callee: { readonly user: string; readonly contact: string | null } | null;
  readonly rejection: { readonly status: number; readonly reason: string; readonly detail: string } | null;
}

function toReport(plan: OutboundPlan, user: string, tenant: string, seed: number): RouteTestReport {
  const base = { user, tenant, dialled: plan.dialled, seed, normalization: plan.normalization };
  switch (plan.kind) {
    case "pstn":
      return {
        ...base,
        emergency: plan.emergency,
        outcome: "gateways",
        callType: plan.emergency === null ? "dr_out" : "dr_emergency_out",
        number: plan.number,
        usage: plan.usage,
        attempts: plan.attempts.map((a, i) => ({
          step: i + 1,
          usage: a.usage,
          route: a.route,
          gateway: a.gateway.fqdn,
          requestUri: a.requestUri,
          destination: `${a.destination.host}:${a.destination.port};transport=${a.destination.transport}`,
          translationRule: a.translationRule,
          failoverResponseCodes: a.gateway.failoverResponseCodes,
          failoverTimeSeconds: a.gateway.failoverTimeSeconds,
        })),
        skipped: plan.skipped.map((s) => ({ route: s.route, gateway: s.fqdn, why: s.why })),
        callee: null,
        rejection: null,
      };
    case "internal":
      return {
        ...base,
        emergency: null,
        outcome: "internal",
        callType: "internal",
        number: plan.number,
        usage: null,
        attempts: [],
        skipped: [],
        callee: { user: plan.callee.id, contact: plan.callee.config.contact ?? null },
        rejection: null,
      };
    case "rejected":
      return {
        ...base,
        emergency: plan.emergency,
        outcome: "rejected",
        callType: null,
        number: null,
        usage: null,
        attempts: [],
        skipped: [],
        callee: null,
        rejection: { status: plan.status, reason: plan.reason, detail: plan.detail },
      };
  }
}
