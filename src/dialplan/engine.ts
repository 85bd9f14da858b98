// The dial plan engine: every tenant's plans compiled once at construction, effective plans
// assembled per (tenant plan, usage location) and cached, normalization on precompiled rules.
import type { ConfigProblem } from "../config/problem.js";
import type { DialgateConfig, UserConfig } from "../config/schema.js";
import type { EffectiveDialPlan } from "./effective-plan.js";
import { type DialPlanError, fail, type Result } from "./errors.js";
import { type NormalizationResult, normalizeDialled } from "./normalize.js";
import { type CompiledTenantPlan, compileTenantPlans } from "./plan-rules.js";
import { serviceCountryPlan } from "./service-country.js";

interface CompiledTenant {
  readonly id: string;
  readonly global: CompiledTenantPlan | null;
  readonly plans: ReadonlyMap<string, CompiledTenantPlan>;
}

interface UserEntry {
  readonly tenant: CompiledTenant;
  readonly user: UserConfig;
}

export class DialPlanEngine {
  private readonly effectiveCache = new Map<string, EffectiveDialPlan>();

  private constructor(
    private readonly tenants: ReadonlyMap<string, CompiledTenant>,
    private readonly users: ReadonlyMap<string, UserEntry>,
  ) {}

  /** Compiles every tenant's plans; refuses a configuration with dial plan problems. */
  static create(config: DialgateConfig): Result<DialPlanEngine, readonly ConfigProblem[]> {
    const tenants = new Map<string, CompiledTenant>();
    const users = new Map<string, UserEntry>();
    const problems: ConfigProblem[] = [];
    config.tenants.forEach((t, ti) => {
      const compiled = compileTenantPlans(t);
      for (const p of compiled.problems)
        problems.push({ path: `tenants[${ti}].${p.path}`, message: p.message });
      const tenant: CompiledTenant = { id: t.id, global: compiled.global, plans: compiled.plans };
      tenants.set(t.id.toLowerCase(), tenant);
      for (const u of t.users) users.set(u.id.toLowerCase(), { tenant, user: u });
    });
    if (problems.length > 0) return { ok: false, error: problems };
    return { ok: true, value: new DialPlanEngine(tenants, users) };
  }

  /** The effective plan of a user (by SIP address, case-insensitive), or undefined if unknown. */
  effectivePlan(userId: string): EffectiveDialPlan | undefined {
    const entry = this.users.get(userId.toLowerCase());
    if (entry === undefined) return undefined;
    return this.assemble(entry.tenant, entry.user.tenantDialPlan ?? null, entry.user.usageLocation);
  }

  /**
   * The effective plan for a tenant, an optional user-scoped plan identity and a usage
   * location; undefined when the tenant or the named plan does not exist.
   */
  effectivePlanFor(
    tenantId: string,
    tenantDialPlan: string | null,
    usageLocation: string,
  ): EffectiveDialPlan | undefined {
    const tenant = this.tenants.get(tenantId.toLowerCase());
    if (tenant === undefined) return undefined;
    if (tenantDialPlan !== null && !tenant.plans.has(tenantDialPlan.toLowerCase())) return undefined;
    return this.assemble(tenant, tenantDialPlan, usageLocation);
  }

  normalize(plan: EffectiveDialPlan, dialled: string): Result<NormalizationResult, DialPlanError> {
    return normalizeDialled(plan, dialled);
  }

  /** Looks the user up and normalizes; a typed error for an unknown user or bad input. */
  normalizeForUser(userId: string, dialled: string): Result<NormalizationResult, DialPlanError> {
    const plan = this.effectivePlan(userId);
    if (plan === undefined) {
      return fail({
        code: "unknown_user",
        message: `unknown user '${userId}'; users are identified by their SIP address (tenants[].users[].id)`,
      });
    }
    return normalizeDialled(plan, dialled);
  }

  private assemble(tenant: CompiledTenant, userPlan: string | null, country: string): EffectiveDialPlan {
    const key = `${tenant.id.toLowerCase()}\u0000${userPlan?.toLowerCase() ?? ""}\u0000${country}`;
    const hit = this.effectiveCache.get(key);
    if (hit !== undefined) return hit;
    // A user-scoped plan replaces the tenant-global plan; they never stack. The global plan
    // only takes part when it has rules.
    const scoped = userPlan === null ? undefined : tenant.plans.get(userPlan.toLowerCase());
    const contributing =
      scoped ?? (tenant.global !== null && tenant.global.rules.length > 0 ? tenant.global : undefined);
    const service = serviceCountryPlan(country);
    const plan: EffectiveDialPlan = {
      name:
        scoped !== undefined
          ? "Tenant User - Service Country"
          : contributing !== undefined
            ? "Tenant Global - Service Country"
            : "Service Country",
      tenantId: tenant.id,
      tenantDialPlan: contributing?.identity ?? null,
      serviceCountry: country,
      serviceCountryPlan: service?.name ?? null,
      countryCallingCode: service?.callingCode ?? null,
      externalAccessPrefix: contributing?.externalAccessPrefix ?? null,
      rules: [...(contributing?.rules ?? []), ...(service?.rules ?? [])],
    };
    this.effectiveCache.set(key, plan);
    return plan;
  }
}

/** For a configuration that already passed validation (loadConfigFile); throws otherwise. */
export function createDialPlanEngine(config: DialgateConfig): DialPlanEngine {
  const r = DialPlanEngine.create(config);
  if (!r.ok) {
    throw new Error(`dial plans are invalid: ${r.error.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
  }
  return r.value;
}
