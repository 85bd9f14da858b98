// Builders shared by the dial plan tests: a minimal valid configuration around some tenants.
import { type DialgateConfig, dialgateConfigSchema } from "../../src/config/schema.js";
import {
  createDialPlanEngine,
  type DialPlanEngine,
  type NormalizationResult,
} from "../../src/dialplan/index.js";

export interface RuleSpec {
  name: string;
  pattern?: string;
  translation?: string;
  isInternalExtension?: boolean;
  description?: string;
}

export function configWith(tenant: Record<string, unknown>): DialgateConfig {
  return dialgateConfigSchema.parse({
    sip: { listen: [{ transport: "udp", host: "127.0.0.1", port: 5060 }], recordRouteHost: "127.0.0.1" },
    tenants: [{ id: "contoso", domains: ["contoso.com"], ...tenant }],
  });
}

export function engineWith(tenant: Record<string, unknown>): DialPlanEngine {
  return createDialPlanEngine(configWith(tenant));
}

/** Normalizes for a user and fails the test on an error. */
export function normalizeAs(engine: DialPlanEngine, user: string, dialled: string): NormalizationResult {
  const r = engine.normalizeForUser(user, dialled);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
