// The dial plan engine (src/dialplan) behind routing's dial plan port.
import type { DialgateConfig } from "../config/schema.js";
import {
  cleanDialledInput,
  compileNumberPattern,
  compileTranslationRule,
  createDialPlanEngine,
  type DialPlanEngine,
} from "../dialplan/index.js";
import type { CallerDialPlan, RoutingRegexDialect } from "./dial-plan-port.js";

export const dotnetDialect: RoutingRegexDialect = {
  compileNumberPattern(pattern) {
    const r = compileNumberPattern(pattern);
    return r.ok ? { ok: true, value: r.value } : { ok: false, error: r.error.message };
  },
  compileTranslationRule(pattern, translation) {
    const r = compileTranslationRule(pattern, translation);
    return r.ok ? { ok: true, value: r.value } : { ok: false, error: r.error.message };
  },
};

export function engineDialPlan(engine: DialPlanEngine): CallerDialPlan {
  return {
    clean(dialled) {
      const r = cleanDialledInput(dialled);
      if (!r.ok) return { ok: false, error: r.error.message };
      const ext = r.value.extension === null ? "" : `;ext=${r.value.extension}`;
      return { ok: true, value: `${r.value.number}${ext}` };
    },
    normalize(userId, dialled) {
      const r = engine.normalizeForUser(userId, dialled);
      if (!r.ok) return { ok: false, error: r.error.message };
      const n = r.value;
      return {
        ok: true,
        value: {
          translatedNumber: n.translatedNumber,
          // The rule's own name, as the CDR table's `matchingRule` reads ("which rule translated
          // it"); its plan is `effectiveTenantDialPlanName` beside it.
          matchingRule: n.matchingRule === null ? null : n.matchingRule.name,
          effectiveTenantDialPlanName: n.effectiveTenantDialPlanName,
          fallbackApplied: n.fallbackApplied,
          externalAccessPrefixStripped: n.externalAccessPrefixStripped,
        },
      };
    },
  };
}

/** The callers' dial plans for a validated configuration. */
export function configDialPlan(config: DialgateConfig): CallerDialPlan {
  return engineDialPlan(createDialPlanEngine(config));
}
