// Errors are values: a stable code, a message that says what is wrong and what is allowed,
// and (for regexes) the construct and offset that caused it.

export type DialPlanErrorCode =
  // .NET regex dialect
  | "regex_syntax"
  | "regex_unsupported_construct"
  | "regex_catastrophic_backtracking"
  | "regex_too_large"
  // translations (.NET substitution syntax)
  | "translation_invalid"
  // dialled input
  | "input_empty"
  | "input_too_long"
  | "input_invalid_character"
  // plans and rules
  | "too_many_rules"
  | "too_many_plans"
  | "invalid_name"
  | "duplicate_name"
  | "description_too_long"
  | "invalid_external_access_prefix"
  // lookups
  | "unknown_user"
  | "unknown_tenant"
  | "unknown_dial_plan"
  | "unknown_country";

export interface DialPlanError {
  readonly code: DialPlanErrorCode;
  readonly message: string;
  /** The regex construct at fault, e.g. `(?(` or `[a-z-[aeiou]]`. */
  readonly construct?: string;
  /** Offset of the construct in the pattern or translation. */
  readonly offset?: number;
}

export type Result<T, E = DialPlanError> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value });
export const fail = (error: DialPlanError): { readonly ok: false; readonly error: DialPlanError } => ({
  ok: false,
  error,
});

/** Where a rule lives, so an error can name tenant, plan and rule. */
export interface RuleLocation {
  readonly tenant?: string;
  readonly plan?: string;
  readonly rule?: string;
}

export function describeLocation(at: RuleLocation): string {
  const parts: string[] = [];
  if (at.tenant !== undefined) parts.push(`tenant '${at.tenant}'`);
  if (at.plan !== undefined) parts.push(`dial plan '${at.plan}'`);
  if (at.rule !== undefined) parts.push(`rule '${at.rule}'`);
  return parts.join(", ");
}

/** Prefixes an error's message with the tenant, plan and rule it belongs to. */
export function locate(error: DialPlanError, at: RuleLocation): DialPlanError {
  const where = describeLocation(at);
  return where === "" ? error : { ...error, message: `${where}: ${error.message}` };
}
