// Placeholder owned by routing: validates voice route number patterns, translation rules and
// emergency numbers in a configuration, and reports problems with paths.
import type { ConfigProblem } from "../config/problem.js";
import type { DialgateConfig } from "../config/schema.js";

export function validateRouting(_config: DialgateConfig): ConfigProblem[] {
  return [];
}
