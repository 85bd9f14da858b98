// The evaluation of a dialled string against an effective dial plan (dialplan.md, Evaluation).
import { cleanDialledInput } from "./clean-input.js";
import type { EffectiveDialPlan, EffectiveDialPlanName } from "./effective-plan.js";
import { type DialPlanError, fail, ok, type Result } from "./errors.js";
import type { MatchingRule } from "./rule.js";

export interface NormalizationPass {
  readonly input: string;
  readonly translatedNumber: string;
  readonly matchingRule: MatchingRule | null;
}

/** The shape of `dialgate dialplan test --json` (dialplan.md, Evaluation 8). */
export interface NormalizationResult {
  readonly translatedNumber: string;
  readonly matchingRule: MatchingRule | null;
  readonly effectiveTenantDialPlanName: EffectiveDialPlanName;
  readonly passes: readonly NormalizationPass[];
  readonly fallbackApplied: boolean;
  readonly externalAccessPrefixStripped: boolean;
}

const ALL_DIGITS = /^\d+$/;

/** Evaluation 4-5: the first rule whose pattern matches anywhere in the input, and its translation. */
function runPass(plan: EffectiveDialPlan, input: string): NormalizationPass {
  const rules = plan.rules;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    // One regex run per rule reached: a failing exec costs what a failing test does (and
    // allocates nothing), so testing first would only run the winning rule twice. Most rules
    // never reach the engine: the prefilter inside apply() skips them on length or first
    // character.
    const translated = rule.compiled.apply(input);
    if (translated !== null) return { input, translatedNumber: translated, matchingRule: rule.info };
  }
  return { input, translatedNumber: input, matchingRule: null };
}

/** Normalizes an already cleaned number (digits, `*`, `#`, optional leading `+`). */
export function normalizeCleaned(
  plan: EffectiveDialPlan,
  cleaned: string,
  extension: string | null = null,
): NormalizationResult {
  const suffix = extension === null ? "" : `;ext=${extension}`;
  // Evaluation 2: a number that starts with `+` is not normalized.
  if (cleaned.startsWith("+")) {
    return {
      translatedNumber: cleaned + suffix,
      matchingRule: null,
      effectiveTenantDialPlanName: plan.name,
      passes: [],
      fallbackApplied: false,
      externalAccessPrefixStripped: false,
    };
  }
  // Evaluation 3: the external access prefix is ignored by the rules, which see the remainder.
  let input = cleaned;
  let stripped = false;
  const prefix = plan.externalAccessPrefix;
  if (prefix !== null && input.length > prefix.length && input.startsWith(prefix)) {
    input = input.slice(prefix.length);
    stripped = true;
  }
  const first = runPass(plan, input);
  if (first.matchingRule === null) {
    // Evaluation 7: the +CC fallback, for digit strings only (feature codes stay as dialled).
    const fallback = plan.countryCallingCode !== null && ALL_DIGITS.test(input);
    return {
      translatedNumber: (fallback ? `+${plan.countryCallingCode}${input}` : input) + suffix,
      matchingRule: null,
      effectiveTenantDialPlanName: plan.name,
      passes: [first],
      fallbackApplied: fallback,
      externalAccessPrefixStripped: stripped,
    };
  }
  // Evaluation 6: one more pass through the same plan when the result has no `+`. The prefix
  // is not stripped again: it belongs to what a user dials, not to what a rule produced.
  if (first.translatedNumber.startsWith("+")) {
    return {
      translatedNumber: first.translatedNumber + suffix,
      matchingRule: first.matchingRule,
      effectiveTenantDialPlanName: plan.name,
      passes: [first],
      fallbackApplied: false,
      externalAccessPrefixStripped: stripped,
    };
  }
  const second = runPass(plan, first.translatedNumber);
  return {
    translatedNumber: second.translatedNumber + suffix,
    matchingRule: second.matchingRule ?? first.matchingRule,
    effectiveTenantDialPlanName: plan.name,
    passes: [first, second],
    fallbackApplied: false,
    externalAccessPrefixStripped: stripped,
  };
}

/** Cleans the dialled string (Evaluation 1) and normalizes it. */
export function normalizeDialled(
  plan: EffectiveDialPlan,
  dialled: string,
): Result<NormalizationResult, DialPlanError> {
  const c = cleanDialledInput(dialled);
  if (!c.ok) return fail(c.error);
  return ok(normalizeCleaned(plan, c.value.number, c.value.extension));
}
