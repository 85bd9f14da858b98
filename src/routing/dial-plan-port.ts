// What routing needs from the dial plan engine (src/dialplan), as a port: the regex dialect
// for voice route number patterns and gateway translation rules, and the caller's effective
// dial plan. Keeping it narrow lets the routing tests inject a tiny stand-in, and keeps the
// arrow pointing one way (routing uses dial plans, never the reverse).

export type Compiled<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

/** A voice route `numberPattern`: .NET dialect, search semantics (routing.md step 4). */
export interface NumberPattern {
  test(number: string): boolean;
}

/** A gateway translation rule: the translated number, or null when the pattern does not match. */
export interface NumberTranslationRule {
  apply(number: string): string | null;
}

export interface RoutingRegexDialect {
  compileNumberPattern(pattern: string): Compiled<NumberPattern>;
  compileTranslationRule(pattern: string, translation: string): Compiled<NumberTranslationRule>;
}

/** The part of a normalization result routing reports (dialplan.md "Output"). */
export interface Normalization {
  readonly translatedNumber: string;
  readonly matchingRule: string | null;
  readonly effectiveTenantDialPlanName: string;
  readonly fallbackApplied: boolean;
  readonly externalAccessPrefixStripped: boolean;
}

export interface CallerDialPlan {
  /** dialplan.md step 1: the cleaned dialled string (emergency numbers are matched on it). */
  clean(dialled: string): Compiled<string>;
  /** The user's effective dial plan applied to what they dialled. */
  normalize(userId: string, dialled: string): Compiled<Normalization>;
}
