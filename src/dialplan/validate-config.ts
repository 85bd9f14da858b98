// Placeholder owned by the dial plan engine: validates every tenant dial plan in a
// configuration (limits, naming rules, .NET regex dialect) and reports problems with paths.
import type { ConfigProblem } from "../config/problem.js";
import type { DialgateConfig } from "../config/schema.js";

export function validateDialPlans(_config: DialgateConfig): ConfigProblem[] {
  return [];
}
