// Routing's part of configuration validation: every voice route numberPattern and every
// translation rule must compile in the .NET dialect (with the dial plan engine's safety
// analysis), and emergency dial strings and masks must not be ambiguous. Problems carry their
// path in the file, e.g. `tenants[0].voiceRoutes[1].numberPattern: ...`.
import type { ConfigProblem } from "../config/problem.js";
import type { DialgateConfig } from "../config/schema.js";
import { dotnetDialect } from "./dial-plan-adapter.js";
import { compileRoutingTables } from "./routing-tables.js";

export function validateRouting(config: DialgateConfig): ConfigProblem[] {
  const r = compileRoutingTables(config, dotnetDialect);
  return r.ok ? [] : [...r.problems];
}
