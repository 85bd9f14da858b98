// The in-process half of the effective dial plan cache: per user, the compiled effective plan,
// in a bounded LRU that outlives routing versions. A new version evicts exactly the users it
// touches (routing-document.ts affectedUsers); everyone else keeps their compiled rules, so a
// push does not turn the whole user base cold. The hot path reads only this map and the
// in-memory routing snapshot: a call never waits on Redis for its dial plan.
import type { DialPlanEngine, EffectiveDialPlan } from "../dialplan/index.js";
import { cleanDialledInput, normalizeDialled } from "../dialplan/index.js";
import type { CallerDialPlan } from "../routing/dial-plan-port.js";

export interface EffectivePlanCacheStats {
  readonly size: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  readonly invalidations: number;
}

export class EffectiveDialPlanCache {
  /** Map iteration order is insertion order: the first key is the least recently used. */
  private readonly entries = new Map<string, EffectiveDialPlan>();
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private invalidations = 0;

  constructor(
    readonly capacity: number,
    /** Told about each plan built on a miss (the Redis write-behind of the merged plan). */
    private readonly onBuilt?: (userId: string, plan: EffectiveDialPlan) => void,
  ) {}

  /** The user's plan from the cache, else built by `build` (undefined: unknown user, not cached). */
  get(
    userId: string,
    build: (userId: string) => EffectiveDialPlan | undefined,
  ): EffectiveDialPlan | undefined {
    const key = userId.toLowerCase();
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.hits++;
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    this.misses++;
    const plan = build(key);
    if (plan === undefined) return undefined;
    this.entries.set(key, plan);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) {
        this.entries.delete(oldest);
        this.evictions++;
      }
    }
    this.onBuilt?.(key, plan);
    return plan;
  }

  has(userId: string): boolean {
    return this.entries.has(userId.toLowerCase());
  }

  /** Drops these users' entries; returns how many were cached. */
  invalidate(userIds: Iterable<string>): number {
    let n = 0;
    for (const id of userIds) if (this.entries.delete(id.toLowerCase())) n++;
    this.invalidations += n;
    return n;
  }

  clear(): void {
    this.invalidations += this.entries.size;
    this.entries.clear();
  }

  get stats(): EffectivePlanCacheStats {
    return {
      size: this.entries.size,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      invalidations: this.invalidations,
    };
  }

  /** Routing's dial plan port for one routing version, backed by this cache. */
  dialPlanFor(engine: DialPlanEngine): CallerDialPlan {
    const build = (id: string) => engine.effectivePlan(id);
    return {
      clean(dialled) {
        const r = cleanDialledInput(dialled);
        if (!r.ok) return { ok: false, error: r.error.message };
        const ext = r.value.extension === null ? "" : `;ext=${r.value.extension}`;
        return { ok: true, value: `${r.value.number}${ext}` };
      },
      normalize: (userId, dialled) => {
        const plan = this.get(userId, build);
        if (plan === undefined)
          return {
            ok: false,
            error: `unknown user '${userId}'; users are identified by their SIP address (tenants[].users[].id)`,
          };
        const r = normalizeDialled(plan, dialled);
        if (!r.ok) return { ok: false, error: r.error.message };
        const n = r.value;
        return {
          ok: true,
          value: {
            translatedNumber: n.translatedNumber,
            matchingRule: n.matchingRule === null ? null : `${n.matchingRule.plan}/${n.matchingRule.name}`,
            effectiveTenantDialPlanName: n.effectiveTenantDialPlanName,
            fallbackApplied: n.fallbackApplied,
            externalAccessPrefixStripped: n.externalAccessPrefixStripped,
          },
        };
      },
    };
  }
}

/** The merged effective plan as data (what Redis holds per user): names and rule sources. */
export function effectivePlanToJson(plan: EffectiveDialPlan): string {
  return JSON.stringify({
    name: plan.name,
    tenantId: plan.tenantId,
    tenantDialPlan: plan.tenantDialPlan,
    serviceCountry: plan.serviceCountry,
    serviceCountryPlan: plan.serviceCountryPlan,
    countryCallingCode: plan.countryCallingCode,
    externalAccessPrefix: plan.externalAccessPrefix,
    rules: plan.rules.map((r) => ({
      ...r.info,
      ...(r.description !== undefined ? { description: r.description } : {}),
    })),
  });
}
