// References between configuration objects: every name used must be defined, and every
// identity that is looked up must be unique. Regexes and dial plan limits are checked by the
// dial plan and routing validators, which know the regex dialect.
import type { ConfigProblem } from "./problem.js";
import type { DialgateConfig } from "./schema.js";

/** Sections whose objects are referred to by name, and the field that names each object. */
export type NamedSection = "gateways" | "translationRules" | "tenants" | "carriers";

/**
 * Names defined by objects the checks do not see (they failed the schema, which reports them):
 * a reference to one of them is not also reported as unknown.
 */
export type DefinedElsewhere = Partial<Record<NamedSection, readonly string[]>>;

export function validateReferences(
  config: DialgateConfig,
  elsewhere: DefinedElsewhere = {},
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const report = (path: string, message: string): void => {
    problems.push({ path, message });
  };

  const unique = <T>(
    items: readonly T[],
    key: (t: T) => string,
    base: string,
    field: string,
    what: string,
  ) => {
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const k = key(item).toLowerCase();
      const first = seen.get(k);
      if (first !== undefined) {
        report(
          `${base}[${i}].${field}`,
          `duplicate ${what} '${key(item)}' (already defined at ${base}[${first}])`,
        );
      } else seen.set(k, i);
    });
    return seen;
  };

  const gateways = unique(config.gateways, (g) => g.fqdn, "gateways", "fqdn", "gateway fqdn");
  const rules = unique(
    config.translationRules,
    (r) => r.identity,
    "translationRules",
    "identity",
    "translation rule",
  );
  const tenants = unique(config.tenants, (t) => t.id, "tenants", "id", "tenant id");
  const carriers = unique(config.carriers, (c) => c.id, "carriers", "id", "carrier id");
  const known: Record<NamedSection, Map<string, number>> = {
    gateways,
    translationRules: rules,
    tenants,
    carriers,
  };
  for (const [section, names] of Object.entries(elsewhere) as [NamedSection, readonly string[]][])
    for (const name of names)
      if (!known[section].has(name.toLowerCase())) known[section].set(name.toLowerCase(), -1);

  const ruleLists = [
    "inboundTeamsNumberTranslationRules",
    "outboundPstnNumberTranslationRules",
    "inboundPstnNumberTranslationRules",
    "outboundTeamsNumberTranslationRules",
  ] as const;
  config.gateways.forEach((g, gi) => {
    if (g.carrier !== undefined && !carriers.has(g.carrier.toLowerCase())) {
      report(`gateways[${gi}].carrier`, `unknown carrier '${g.carrier}' (define it under carriers)`);
    }
    if (g.tenant !== undefined && !tenants.has(g.tenant.toLowerCase())) {
      report(`gateways[${gi}].tenant`, `unknown tenant '${g.tenant}'`);
    }
    for (const list of ruleLists) {
      g[list].forEach((name, ri) => {
        if (!rules.has(name.toLowerCase())) {
          report(
            `gateways[${gi}].${list}[${ri}]`,
            `unknown translation rule '${name}' (define it under translationRules)`,
          );
        }
      });
    }
  });

  const domainOwner = new Map<string, string>();
  const userOwner = new Map<string, string>();
  config.tenants.forEach((t, ti) => {
    const base = `tenants[${ti}]`;
    t.domains.forEach((d, di) => {
      const owner = domainOwner.get(d);
      if (owner !== undefined)
        report(`${base}.domains[${di}]`, `domain '${d}' already belongs to tenant '${owner}'`);
      else domainOwner.set(d, t.id);
    });
    const usages = unique(t.pstnUsages, (u) => u, `${base}.pstnUsages`, "", "PSTN usage");
    const checkUsage = (path: string, usage: string) => {
      if (!usages.has(usage.toLowerCase())) {
        report(path, `unknown PSTN usage '${usage}' (list it in ${base}.pstnUsages)`);
      }
    };
    unique(t.voiceRoutes, (r) => r.identity, `${base}.voiceRoutes`, "identity", "voice route");
    t.voiceRoutes.forEach((r, ri) => {
      r.onlinePstnUsages.forEach((u, ui) =>
        checkUsage(`${base}.voiceRoutes[${ri}].onlinePstnUsages[${ui}]`, u),
      );
      r.onlinePstnGatewayList.forEach((g, gi) => {
        if (!gateways.has(g)) {
          report(
            `${base}.voiceRoutes[${ri}].onlinePstnGatewayList[${gi}]`,
            `unknown gateway '${g}' (define it under gateways)`,
          );
        }
      });
    });
    const policies = unique(
      t.voiceRoutingPolicies,
      (p) => p.identity,
      `${base}.voiceRoutingPolicies`,
      "identity",
      "voice routing policy",
    );
    t.voiceRoutingPolicies.forEach((p, pi) =>
      p.onlinePstnUsages.forEach((u, ui) =>
        checkUsage(`${base}.voiceRoutingPolicies[${pi}].onlinePstnUsages[${ui}]`, u),
      ),
    );
    const emergency = unique(
      t.emergencyCallRoutingPolicies,
      (p) => p.identity,
      `${base}.emergencyCallRoutingPolicies`,
      "identity",
      "emergency call routing policy",
    );
    t.emergencyCallRoutingPolicies.forEach((p, pi) =>
      p.emergencyNumbers.forEach((n, ni) =>
        checkUsage(
          `${base}.emergencyCallRoutingPolicies[${pi}].emergencyNumbers[${ni}].onlinePstnUsage`,
          n.onlinePstnUsage,
        ),
      ),
    );
    const plans = new Set(t.dialPlans.plans.map((p) => p.identity.toLowerCase()));
    const lineUris = new Map<string, number>();
    t.users.forEach((u, ui) => {
      const ubase = `${base}.users[${ui}]`;
      const owner = userOwner.get(u.id);
      if (owner !== undefined)
        report(`${ubase}.id`, `duplicate user '${u.id}' (already defined in tenant '${owner}')`);
      else userOwner.set(u.id, t.id);
      const domain = u.id.slice(u.id.indexOf("@") + 1);
      if (!t.domains.includes(domain)) {
        report(
          `${ubase}.id`,
          `user domain '${domain}' is not one of the tenant's domains (${t.domains.join(", ")})`,
        );
      }
      if (u.tenantDialPlan !== undefined && !plans.has(u.tenantDialPlan.toLowerCase())) {
        report(
          `${ubase}.tenantDialPlan`,
          `unknown dial plan '${u.tenantDialPlan}' (define it in ${base}.dialPlans.plans)`,
        );
      }
      if (
        u.onlineVoiceRoutingPolicy !== undefined &&
        !policies.has(u.onlineVoiceRoutingPolicy.toLowerCase())
      ) {
        report(
          `${ubase}.onlineVoiceRoutingPolicy`,
          `unknown voice routing policy '${u.onlineVoiceRoutingPolicy}'`,
        );
      }
      if (
        u.emergencyCallRoutingPolicy !== undefined &&
        !emergency.has(u.emergencyCallRoutingPolicy.toLowerCase())
      ) {
        report(
          `${ubase}.emergencyCallRoutingPolicy`,
          `unknown emergency call routing policy '${u.emergencyCallRoutingPolicy}'`,
        );
      }
      if (u.lineUri !== undefined) {
        const first = lineUris.get(u.lineUri);
        if (first !== undefined)
          report(`${ubase}.lineUri`, `number '${u.lineUri}' is already assigned to ${base}.users[${first}]`);
        else lineUris.set(u.lineUri, ui);
      }
    });
  });

  config.carriers.forEach((c, ci) =>
    c.numbers.forEach((n, ni) => {
      if (!tenants.has(n.tenant.toLowerCase()))
        report(`carriers[${ci}].numbers[${ni}].tenant`, `unknown tenant '${n.tenant}'`);
    }),
  );
  return problems;
}
