// Limits and naming rules of tenant dial plans (dialplan.md, "Rule and plan validation"),
// checked on load; every problem names tenant, plan and rule, the offending value, and what is
// allowed. The same functions compile the rules the engine runs, so what validates is what runs.
import type { TenantConfig, TenantDialPlanConfig, TenantGlobalDialPlanConfig } from "../config/schema.js";
import { describeLocation, type RuleLocation } from "./errors.js";
import { type CompiledRule, compileRule } from "./rule.js";

export const MAX_RULES_PER_PLAN = 50;
export const MAX_PLANS_PER_TENANT = 1000;
export const MAX_NAME_LENGTH = 49;
export const MAX_PLAN_DESCRIPTION = 1040;
export const MAX_RULE_DESCRIPTION = 512;
/** The identity of the tenant-global plan. */
export const GLOBAL_PLAN_IDENTITY = "Global";

export interface PlanProblem {
  /** Path relative to the tenant, e.g. `dialPlans.plans[2].normalizationRules[4].pattern`. */
  readonly path: string;
  readonly message: string;
}

export interface CompiledTenantPlan {
  readonly identity: string;
  readonly simpleName: string;
  /** Only set when optimizeDeviceDialing is true (dialplan.md, Evaluation 3). */
  readonly externalAccessPrefix: string | null;
  readonly rules: readonly CompiledRule[];
}

const IDENTITY = /^[\p{L}\p{Nd}.-]{1,49}$/u;
const SIMPLE_NAME = /^[\p{L}\p{Nd}.()-]{1,49}$/u;
const ACCESS_PREFIX = /^[0-9*#]{1,4}$/;

function at(loc: RuleLocation): string {
  return describeLocation(loc);
}

export function checkPlanName(
  value: string,
  kind: "identity" | "simpleName",
  loc: RuleLocation,
): string | null {
  const allowed =
    kind === "identity"
      ? "1-49 characters of letters, digits, '-' and '.', not starting with '.'"
      : "1-49 characters of letters, digits, '-', '.', '(' and ')', not starting with '.'";
  const re = kind === "identity" ? IDENTITY : SIMPLE_NAME;
  if (!re.test(value) || value.startsWith(".")) {
    return `${at(loc)}: ${kind} '${value}' is not allowed; use ${allowed}`;
  }
  return null;
}

/**
 * Validates and compiles one plan. `base` is the plan's path relative to the tenant. Returns
 * the compiled plan (with the rules that compiled) and the problems.
 */
export function compileTenantPlan(
  tenantId: string,
  identity: string,
  plan: TenantGlobalDialPlanConfig | TenantDialPlanConfig,
  base: string,
): { plan: CompiledTenantPlan; problems: PlanProblem[] } {
  const problems: PlanProblem[] = [];
  const report = (path: string, message: string): void => {
    problems.push({ path: `${base}${path}`, message });
  };
  const loc: RuleLocation = { tenant: tenantId, plan: identity };
  if (plan.description !== undefined && plan.description.length > MAX_PLAN_DESCRIPTION) {
    report(
      ".description",
      `${at(loc)}: description is ${plan.description.length} characters long; at most ${MAX_PLAN_DESCRIPTION} are allowed`,
    );
  }
  if (plan.externalAccessPrefix !== undefined && !ACCESS_PREFIX.test(plan.externalAccessPrefix)) {
    report(
      ".externalAccessPrefix",
      `${at(loc)}: externalAccessPrefix '${plan.externalAccessPrefix}' is not allowed; use 1-4 characters of 0-9, '*' and '#'`,
    );
  }
  if (plan.normalizationRules.length > MAX_RULES_PER_PLAN) {
    report(
      ".normalizationRules",
      `${at(loc)}: ${plan.normalizationRules.length} normalization rules; at most ${MAX_RULES_PER_PLAN} are allowed per dial plan`,
    );
  }
  const rules: CompiledRule[] = [];
  const ruleNames = new Map<string, number>();
  plan.normalizationRules.forEach((rule, ri) => {
    const rbase = `.normalizationRules[${ri}]`;
    const rloc: RuleLocation = { ...loc, rule: rule.name };
    if (rule.name.trim() === "" || rule.name.length > 255) {
      report(
        `${rbase}.name`,
        `${at(loc)}, rule #${ri + 1}: name '${rule.name}' is not allowed; use 1-255 characters`,
      );
    } else {
      const first = ruleNames.get(rule.name.toLowerCase());
      if (first !== undefined)
        report(
          `${rbase}.name`,
          `${at(rloc)}: duplicate rule name '${rule.name}' (already used by normalizationRules[${first}]); rule names are unique within a plan`,
        );
      else ruleNames.set(rule.name.toLowerCase(), ri);
    }
    if (rule.description !== undefined && rule.description.length > MAX_RULE_DESCRIPTION) {
      report(
        `${rbase}.description`,
        `${at(rloc)}: description is ${rule.description.length} characters long; at most ${MAX_RULE_DESCRIPTION} are allowed`,
      );
    }
    const compiled = compileRule(rule, identity);
    if (compiled.ok) rules.push(compiled.value);
    else report(`${rbase}.pattern`, `${at(rloc)}: ${compiled.error.message}`);
  });
  const prefix =
    plan.optimizeDeviceDialing &&
    plan.externalAccessPrefix !== undefined &&
    ACCESS_PREFIX.test(plan.externalAccessPrefix)
      ? plan.externalAccessPrefix
      : null;
  const simpleName = "simpleName" in plan && plan.simpleName !== undefined ? plan.simpleName : identity;
  return { plan: { identity, simpleName, externalAccessPrefix: prefix, rules }, problems };
}

/** Validates and compiles every dial plan of a tenant. Paths are relative to the tenant. */
export function compileTenantPlans(tenant: TenantConfig): {
  global: CompiledTenantPlan | null;
  plans: ReadonlyMap<string, CompiledTenantPlan>;
  problems: PlanProblem[];
} {
  const problems: PlanProblem[] = [];
  const dp = tenant.dialPlans;
  let global: CompiledTenantPlan | null = null;
  if (dp.global !== undefined) {
    const r = compileTenantPlan(tenant.id, GLOBAL_PLAN_IDENTITY, dp.global, "dialPlans.global");
    global = r.plan;
    problems.push(...r.problems);
  }
  if (dp.plans.length > MAX_PLANS_PER_TENANT) {
    problems.push({
      path: "dialPlans.plans",
      message: `tenant '${tenant.id}': ${dp.plans.length} tenant dial plans; at most ${MAX_PLANS_PER_TENANT} are allowed per tenant`,
    });
  }
  const plans = new Map<string, CompiledTenantPlan>();
  const identities = new Map<string, number>();
  const simpleNames = new Map<string, number>();
  dp.plans.forEach((p, pi) => {
    const base = `dialPlans.plans[${pi}]`;
    const loc: RuleLocation = { tenant: tenant.id, plan: p.identity };
    const idProblem = checkPlanName(p.identity, "identity", loc);
    if (idProblem !== null) problems.push({ path: `${base}.identity`, message: idProblem });
    else if (p.identity.toLowerCase() === GLOBAL_PLAN_IDENTITY.toLowerCase())
      problems.push({
        path: `${base}.identity`,
        message: `${at(loc)}: identity '${p.identity}' is reserved for the tenant-global plan; define it under dialPlans.global`,
      });
    const firstId = identities.get(p.identity.toLowerCase());
    if (firstId !== undefined)
      problems.push({
        path: `${base}.identity`,
        message: `${at(loc)}: duplicate identity '${p.identity}' (already used by dialPlans.plans[${firstId}])`,
      });
    else identities.set(p.identity.toLowerCase(), pi);
    // dialplan.md: the simple name is never empty; it defaults to the identity.
    const simple = p.simpleName ?? p.identity;
    const snProblem = checkPlanName(simple, "simpleName", loc);
    if (snProblem !== null) problems.push({ path: `${base}.simpleName`, message: snProblem });
    const firstSn = simpleNames.get(simple.toLowerCase());
    if (firstSn !== undefined)
      problems.push({
        path: `${base}.simpleName`,
        message: `${at(loc)}: duplicate simpleName '${simple}' (already used by dialPlans.plans[${firstSn}]); simple names are unique within a tenant`,
      });
    else simpleNames.set(simple.toLowerCase(), pi);
    const r = compileTenantPlan(tenant.id, p.identity, p, base);
    problems.push(...r.problems);
    if (firstId === undefined) plans.set(p.identity.toLowerCase(), r.plan);
  });
  return { global, plans, problems };
}
