// A normalization rule compiled for the hot path: the compiled pattern and translation, and
// the frozen object reported as `matchingRule`, built once so a result allocates nothing new.
import { fail, ok, type Result } from "./errors.js";
import { type CompiledTranslation, compileTranslation } from "./number-pattern.js";

/** What a result reports as `matchingRule` (dialplan.md, Evaluation 8). */
export interface MatchingRule {
  readonly name: string;
  readonly pattern: string;
  readonly translation: string;
  readonly isInternalExtension: boolean;
  /** The plan the rule belongs to: a tenant plan identity, `Global`, or `ServiceCountry-XX`. */
  readonly plan: string;
}

export interface NormalizationRuleSource {
  readonly name: string;
  readonly description?: string | undefined;
  readonly pattern: string;
  readonly translation: string;
  readonly isInternalExtension: boolean;
}

export interface CompiledRule {
  readonly info: MatchingRule;
  readonly description: string | undefined;
  readonly compiled: CompiledTranslation;
}

export function compileRule(source: NormalizationRuleSource, plan: string): Result<CompiledRule> {
  const t = compileTranslation(source.pattern, source.translation);
  if (!t.ok) return fail(t.error);
  const info: MatchingRule = Object.freeze({
    name: source.name,
    pattern: source.pattern,
    translation: source.translation,
    isInternalExtension: source.isInternalExtension,
    plan,
  });
  return ok({ info, description: source.description, compiled: t.value });
}
