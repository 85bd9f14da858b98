// What `dialgate dialplan test|effective --json` print and what `POST /v1/admin/dialplan/test`
// and `GET /v1/admin/users/{id}/effective-dial-plan` answer: one function each, so the CLI and the
// admin API cannot drift apart.
import type { DialPlanEngine } from "./engine.js";
import type { Result } from "./errors.js";
import type { NormalizationResult } from "./normalize.js";
import type { MatchingRule } from "./rule.js";

/** `dialplan test`: the dialled number through the user's effective dial plan. */
export function dialPlanTest(
  engine: DialPlanEngine,
  user: string,
  number: string,
): Result<NormalizationResult> {
  return engine.normalizeForUser(user, number);
}

export interface EffectiveDialPlanReport {
  readonly effectiveTenantDialPlanName: string;
  readonly tenantDialPlan: string | null;
  readonly serviceCountry: string;
  readonly serviceCountryPlan: string | null;
  readonly countryCallingCode: string | null;
  readonly externalAccessPrefix: string | null;
  readonly normalizationRules: readonly (MatchingRule & {
    readonly description: string | null;
    readonly engine: string;
  })[];
}

/** `dialplan effective`: the user's effective plan with its rules in evaluation order; null if unknown. */
export function effectiveDialPlanReport(
  engine: DialPlanEngine,
  user: string,
): EffectiveDialPlanReport | null {
  const plan = engine.effectivePlan(user);
  if (plan === undefined) return null;
  return {
    effectiveTenantDialPlanName: plan.name,
    tenantDialPlan: plan.tenantDialPlan,
    serviceCountry: plan.serviceCountry,
    serviceCountryPlan: plan.serviceCountryPlan,
    countryCallingCode: plan.countryCallingCode,
    externalAccessPrefix: plan.externalAccessPrefix,
    normalizationRules: plan.rules.map((r) => ({
      ...r.info,
      description: r.description ?? null,
      engine: r.compiled.engine,
    })),
  };
}
