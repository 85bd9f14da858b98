// The routing objects of a configuration, compiled once: every voice route numberPattern and
// every translation rule goes through the .NET-dialect compiler at load, so a bad pattern is
// a configuration problem with its path, never a surprise during a call.
import type { ConfigProblem } from "../config/problem.js";
import type {
  DialgateConfig,
  EmergencyCallRoutingPolicyConfig,
  TenantConfig,
  VoiceRoutingPolicyConfig,
} from "../config/schema.js";
import type { NumberPattern, NumberTranslationRule, RoutingRegexDialect } from "./dial-plan-port.js";

export interface VoiceRoute {
  readonly identity: string;
  readonly priority: number;
  /** Position in the tenant's list: breaks priority ties (routing.md step 4). */
  readonly definitionOrder: number;
  readonly numberPattern: NumberPattern;
  /** Lower-cased PSTN usage names (usage names compare case-insensitively, like identities). */
  readonly pstnUsages: ReadonlySet<string>;
  readonly gatewayFqdns: readonly string[];
}

export interface CompiledTranslationRule {
  readonly identity: string;
  readonly rule: NumberTranslationRule;
}

export interface TenantRouting {
  readonly tenant: TenantConfig;
  readonly voiceRoutes: readonly VoiceRoute[];
  voiceRoutingPolicy(identity: string): VoiceRoutingPolicyConfig | undefined;
  emergencyCallRoutingPolicy(identity: string): EmergencyCallRoutingPolicyConfig | undefined;
}

export interface RoutingTables {
  tenant(id: string): TenantRouting | undefined;
  translationRule(identity: string): CompiledTranslationRule | undefined;
}

export type RoutingTablesResult =
  | { readonly ok: true; readonly tables: RoutingTables }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

export function compileRoutingTables(
  config: DialgateConfig,
  dialect: RoutingRegexDialect,
): RoutingTablesResult {
  const problems: ConfigProblem[] = [];
  const rules = new Map<string, CompiledTranslationRule>();
  config.translationRules.forEach((r, i) => {
    const compiled = dialect.compileTranslationRule(r.pattern, r.translation);
    if (!compiled.ok) {
      problems.push({
        path: `translationRules[${i}].pattern`,
        message: `translation rule '${r.identity}': ${compiled.error}`,
      });
    } else rules.set(r.identity.toLowerCase(), { identity: r.identity, rule: compiled.value });
  });

  const tenants = new Map<string, TenantRouting>();
  config.tenants.forEach((tenant, ti) => {
    const routes: VoiceRoute[] = [];
    tenant.voiceRoutes.forEach((r, ri) => {
      const compiled = dialect.compileNumberPattern(r.numberPattern);
      if (!compiled.ok) {
        problems.push({
          path: `tenants[${ti}].voiceRoutes[${ri}].numberPattern`,
          message: `voice route '${r.identity}': ${compiled.error}`,
        });
        return;
      }
      routes.push({
        identity: r.identity,
        priority: r.priority,
        definitionOrder: ri,
        numberPattern: compiled.value,
        pstnUsages: new Set(r.onlinePstnUsages.map((u) => u.toLowerCase())),
        gatewayFqdns: r.onlinePstnGatewayList.map((g) => g.toLowerCase()),
      });
    });
    // Emergency dial strings and masks are compared as cleaned strings, not as patterns; the
    // schema already restricts them to 0-9 * # +. A mask repeating another number's string
    // would make the match ambiguous, so it is reported.
    const seen = new Map<string, string>();
    tenant.emergencyCallRoutingPolicies.forEach((p, pi) => {
      seen.clear();
      p.emergencyNumbers.forEach((n, ni) => {
        const strings = [n.emergencyDialString, ...(n.emergencyDialMask?.split(";") ?? [])];
        for (const s of strings) {
          const first = seen.get(s);
          if (first !== undefined && first !== `${ni}`) {
            problems.push({
              path: `tenants[${ti}].emergencyCallRoutingPolicies[${pi}].emergencyNumbers[${ni}]`,
              message: `emergency dial string or mask '${s}' is already used by emergencyNumbers[${first}] of policy '${p.identity}'`,
            });
          } else seen.set(s, `${ni}`);
        }
      });
    });
    const policies = new Map(tenant.voiceRoutingPolicies.map((p) => [p.identity.toLowerCase(), p]));
    const emergency = new Map(tenant.emergencyCallRoutingPolicies.map((p) => [p.identity.toLowerCase(), p]));
    tenants.set(tenant.id.toLowerCase(), {
      tenant,
      voiceRoutes: routes,
      voiceRoutingPolicy: (id) => policies.get(id.toLowerCase()),
      emergencyCallRoutingPolicy: (id) => emergency.get(id.toLowerCase()),
    });
  });

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    tables: {
      tenant: (id) => tenants.get(id.toLowerCase()),
      translationRule: (identity) => rules.get(identity.toLowerCase()),
    },
  };
}
