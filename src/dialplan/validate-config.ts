// Dial plan problems of a configuration, with their paths in the file, for the config loader
// (`dialgate config check`): limits, naming, and every pattern compiled in the .NET dialect.
import type { ConfigProblem } from "../config/problem.js";
import type { DialgateConfig } from "../config/schema.js";
import { compileTenantPlans } from "./plan-rules.js";
import { countryCallingCode } from "./service-country.js";

export function validateDialPlans(config: DialgateConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  config.tenants.forEach((t, ti) => {
    for (const p of compileTenantPlans(t).problems) {
      problems.push({ path: `tenants[${ti}].${p.path}`, message: p.message });
    }
    t.users.forEach((u, ui) => {
      if (countryCallingCode(u.usageLocation) === null) {
        problems.push({
          path: `tenants[${ti}].users[${ui}].usageLocation`,
          message: `tenant '${t.id}', user '${u.id}': usage location '${u.usageLocation}' has no service-country dial plan; use an ISO 3166-1 alpha-2 country/region code such as US`,
        });
      }
    });
  });
  return problems;
}
