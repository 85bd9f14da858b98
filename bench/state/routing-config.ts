// The routing objects `bench:state` pushes: the example configuration (config/dialgate.yaml:
// gateways, translation rules, tenant contoso with its global and Redmond plans, routes,
// policies, Alice and Bob, a carrier) grown to many tenants and users. Each generated tenant is
// a copy of contoso with four more site plans (9 rules each, like Redmond's: extensions, a site
// prefix, 7-digit local dialling); its users are spread over the plans (60% with a user-scoped
// plan, 40% on the tenant-global plan) and over usage locations (US, CA, GB, DE), so effective
// plans differ in tenant rules and in service-country rules.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { validateConfig } from "../../src/config/load.js";
import type { DialgateConfig } from "../../src/config/schema.js";

export const USERS_PER_TENANT = 100;
const LOCATIONS = ["US", "US", "US", "CA", "GB", "DE"] as const;
const SITES = ["Seattle", "Bellevue", "Portland", "Vancouver"] as const;

interface RawTenant {
  id: string;
  domains: string[];
  dialPlans: { plans: Record<string, unknown>[] } & Record<string, unknown>;
  users: Record<string, unknown>[];
  [key: string]: unknown;
}

function sitePlan(site: string, s: number): Record<string, unknown> {
  const prefix = `6${s + 3}`; // 63.., 64.., 65.., 66..: site dialling prefixes
  return {
    identity: site,
    simpleName: site,
    description: `${site} site`,
    externalAccessPrefix: "9",
    optimizeDeviceDialing: true,
    normalizationRules: [
      {
        name: "4digitExtension",
        pattern: "^(\\d{4})$",
        translation: `+1425${prefix}0$1`,
        isInternalExtension: true,
      },
      {
        name: "5digitExtension",
        pattern: `^${s + 3}(\\d{4})$`,
        translation: `+1425${prefix}0$1`,
        isInternalExtension: true,
      },
      { name: "SitePrefix", pattern: `^8${prefix}(\\d{4})$`, translation: `+1425${prefix}0$1` },
      { name: "Operator", pattern: "^0$", translation: `+1425${prefix}00000` },
      { name: "7digitLocal", pattern: "^(\\d{7})$", translation: "+1425$1" },
      { name: "10digitNational", pattern: "^([2-9]\\d{9})$", translation: "+1$1" },
      { name: "11digitNational", pattern: "^1([2-9]\\d{9})$", translation: "+1$1" },
      { name: "International", pattern: "^011(\\d{7,15})$", translation: "+$1" },
      { name: "ServiceCodes", pattern: "^([2-8]11)$", translation: "$1" },
    ],
  };
}

/** `users` generated users (plus the example's Alice and Bob), validated as `config push` would. */
export function benchRoutingConfig(repo: string, users: number): DialgateConfig {
  const raw = parse(readFileSync(join(repo, "config", "dialgate.yaml"), "utf8")) as {
    tenants: RawTenant[];
  } & Record<string, unknown>;
  const contoso = raw.tenants[0];
  if (contoso === undefined) throw new Error("config/dialgate.yaml has no tenant");
  const template = JSON.stringify(contoso);
  const tenants: RawTenant[] = [];
  const tenantCount = Math.ceil(users / USERS_PER_TENANT);
  for (let t = 0; t < tenantCount; t++) {
    const tenant = JSON.parse(template) as RawTenant;
    if (t > 0) {
      tenant.id = `tenant${t}`;
      tenant.domains = [`t${t}.example`];
      tenant.users = [];
    }
    tenant.dialPlans.plans.push(...SITES.map(sitePlan));
    const planNames = ["Redmond", ...SITES];
    const domain = tenant.domains[0];
    const count = Math.min(USERS_PER_TENANT, users - t * USERS_PER_TENANT);
    for (let i = 0; i < count; i++) {
      const n = t * USERS_PER_TENANT + i;
      tenant.users.push({
        id: `user${n}@${domain}`,
        lineUri: `+1206${String(n).padStart(7, "0")}`,
        usageLocation: LOCATIONS[n % LOCATIONS.length],
        // 60% with a user-scoped plan, 40% on the tenant-global plan.
        ...(n % 5 < 3 ? { tenantDialPlan: planNames[n % planNames.length] } : {}),
        onlineVoiceRoutingPolicy: "US and International",
      });
    }
    tenants.push(tenant);
  }
  const r = validateConfig({ ...raw, tenants });
  if (!r.ok) throw new Error(`bench routing config invalid: ${JSON.stringify(r.problems.slice(0, 5))}`);
  return r.config;
}

/** Every user id of a configuration (lower-cased, as the cache keys them). */
export function userIds(config: DialgateConfig): string[] {
  return config.tenants.flatMap((t) => t.users.map((u) => u.id.toLowerCase()));
}
