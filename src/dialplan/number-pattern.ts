// The two regex-backed objects other components use: a voice route's `numberPattern` (does the
// number match?) and a gateway translation rule (pattern + translation, expanded like .NET
// `Match.Result`). Both compile once and are safe to run on every call.
import { type DialPlanError, fail, ok, type Result } from "./errors.js";
import { type CompiledRegex, compileDotnetRegex, type RegexEngine } from "./regex/compile.js";
import { expandSubstitution, parseSubstitution, type SubstitutionPart } from "./regex/substitution.js";

export interface NumberPattern {
  readonly pattern: string;
  readonly engine: RegexEngine;
  /** Search semantics (the pattern may match anywhere; most are anchored with ^…$). */
  test(input: string): boolean;
}

export interface TranslationRule {
  readonly pattern: string;
  readonly translation: string;
  readonly engine: RegexEngine;
  /** The translation expanded with the first match, or null when the pattern does not match. */
  apply(input: string): string | null;
}

function patternError(pattern: string, error: DialPlanError): DialPlanError {
  return {
    ...error,
    message: `pattern '${pattern}': ${error.message}. Patterns use .NET regular expression syntax without conditionals, balancing groups, class subtraction or mid-pattern inline options`,
  };
}

export function compileNumberPattern(pattern: string): Result<NumberPattern> {
  const re = compileDotnetRegex(pattern);
  if (!re.ok) return fail(patternError(pattern, re.error));
  const compiled = re.value;
  return ok({
    pattern,
    engine: compiled.engine,
    test: (input: string) => compiled.mayMatch(input) && compiled.test(input),
  });
}

/** A pattern and its translation, compiled together (the translation needs the group table). */
export class CompiledTranslation implements TranslationRule {
  readonly engine: RegexEngine;
  constructor(
    readonly pattern: string,
    readonly translation: string,
    readonly regex: CompiledRegex,
    private readonly parts: readonly SubstitutionPart[],
  ) {
    this.engine = regex.engine;
  }

  apply(input: string): string | null {
    if (!this.regex.mayMatch(input)) return null;
    const m = this.regex.exec(input);
    return m === null ? null : expandSubstitution(this.parts, m, input);
  }
}

export function compileTranslation(pattern: string, translation: string): Result<CompiledTranslation> {
  const re = compileDotnetRegex(pattern);
  if (!re.ok) return fail(patternError(pattern, re.error));
  // Every translation is valid .NET substitution text (an unknown token is literal), so the
  // only failure is the pattern's.
  const parts = parseSubstitution(translation, re.value);
  return ok(new CompiledTranslation(pattern, translation, re.value, parts));
}

export function compileTranslationRule(pattern: string, translation: string): Result<TranslationRule> {
  return compileTranslation(pattern, translation);
}
