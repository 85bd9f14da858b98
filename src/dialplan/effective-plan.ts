// The effective dial plan of a user (dialplan.md, "Scopes and the effective dial plan"):
// their user-scoped plan if one is assigned, else the tenant-global plan if it has rules,
// followed by the service-country plan of their usage location.
import type { CompiledRule } from "./rule.js";

export type EffectiveDialPlanName =
  | "Service Country"
  | "Tenant Global - Service Country"
  | "Tenant User - Service Country";

export interface EffectiveDialPlan {
  readonly name: EffectiveDialPlanName;
  readonly tenantId: string;
  /** Identity of the plan contributing tenant rules (`Global` or a user-scoped plan), or null. */
  readonly tenantDialPlan: string | null;
  /** The usage location whose service-country plan follows the tenant rules. */
  readonly serviceCountry: string;
  /** Name of that service-country plan, or null when the metadata has no such country. */
  readonly serviceCountryPlan: string | null;
  /** Country calling code for the `+CC` fallback, or null. */
  readonly countryCallingCode: string | null;
  /** Stripped when present: only set when the contributing plan has optimizeDeviceDialing. */
  readonly externalAccessPrefix: string | null;
  /** Evaluation order: tenant (or user) rules, then service-country rules. */
  readonly rules: readonly CompiledRule[];
}
