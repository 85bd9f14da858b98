// The dial plan engine's public surface (dialplan.md). Pure code, no I/O.
export { type CleanedInput, cleanDialledInput, MAX_DIALLED_LENGTH } from "./clean-input.js";
export type { EffectiveDialPlan, EffectiveDialPlanName } from "./effective-plan.js";
export { createDialPlanEngine, DialPlanEngine } from "./engine.js";
export type { DialPlanError, DialPlanErrorCode, Result } from "./errors.js";
export type { NormalizationPass, NormalizationResult } from "./normalize.js";
export { normalizeCleaned, normalizeDialled } from "./normalize.js";
export {
  compileNumberPattern,
  compileTranslationRule,
  type NumberPattern,
  type TranslationRule,
} from "./number-pattern.js";
export {
  GLOBAL_PLAN_IDENTITY,
  MAX_PLANS_PER_TENANT,
  MAX_RULES_PER_PLAN,
} from "./plan-rules.js";
export type { RegexEngine } from "./regex/compile.js";
export type { CompiledRule, MatchingRule } from "./rule.js";
export {
  countryCallingCode,
  type ServiceCountryPlan,
  serviceCountries,
  serviceCountryPlan,
} from "./service-country.js";
export { validateDialPlans } from "./validate-config.js";
