// Validating a parsed document (YAML/JSON value) as a whole, so that one run lists every problem
// (config.md: "an invalid file is refused with *all* problems listed"). The schema checks the
// shape; each semantic check then runs on every part of the file whose shape is right, even when
// another part is wrong: a flood threshold of -1 must not hide an unknown gateway reference.
//
// The semantic checks are written for schema-valid objects, so each one names the parts of the
// configuration it reads and runs only when all of them passed the schema. The parts are the
// top-level sections, and `sip` field by field (its fields are independent settings that the
// checks read separately: a bad `sip.flood` says nothing about `sip.listen`). A check never sees
// a part that failed; it gets a schema default there that it does not read.
import { validateDialPlans } from "../dialplan/validate-config.js";
import { validateRouting } from "../routing/validate-config.js";
import { type ConfigProblem, formatConfigPath } from "./problem.js";
import { validateReferences } from "./references.js";
import { type DialgateConfig, dialgateConfigSchema, sipSchema } from "./schema.js";
import { validateGatewayTransports, validateSecuritySettings } from "./security-checks.js";

export type ConfigValidation =
  | { readonly ok: true; readonly config: DialgateConfig }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

export interface ValidationOptions {
  /**
   * Whether the document is a configuration that runs as it is, so that its gateways must be
   * reachable through its own listeners (default true). Not so for routing objects validated
   * with a stand-in `sip` section, or merged with an instance's settings from Redis: there a
   * gateway the instance cannot reach is logged when the version is applied, not refused.
   */
  readonly runnable?: boolean;
}

type Section = Exclude<keyof DialgateConfig, "sip">;
type SipField = keyof DialgateConfig["sip"];
/** A part of the configuration a check reads: a top-level section, or one `sip` field. */
export type ConfigPart = Section | `sip.${SipField}`;

interface SemanticCheck {
  readonly reads: readonly ConfigPart[];
  readonly run: (config: DialgateConfig) => ConfigProblem[];
  readonly runnableOnly?: boolean;
}

const SEMANTIC_CHECKS: readonly SemanticCheck[] = [
  { reads: ["gateways", "translationRules", "tenants", "carriers"], run: validateReferences },
  { reads: ["tenants"], run: validateDialPlans },
  { reads: ["translationRules", "tenants"], run: validateRouting },
  {
    reads: ["sip.edge", "sip.drachtio", "sip.listen", "sip.tls", "sip.workers", "redis"],
    run: validateSecuritySettings,
  },
  { reads: ["sip.listen", "gateways"], run: validateGatewayTransports, runnableOnly: true },
];

/** Stand-ins for the two `sip` fields without a default (never read by a check: it did not validate). */
const SIP_STAND_INS: Partial<Record<SipField, unknown>> = {
  listen: [{ transport: "udp", host: "127.0.0.1", port: 5060 }],
  recordRouteHost: "127.0.0.1",
};

export function validateConfig(raw: unknown, options: ValidationOptions = {}): ConfigValidation {
  const runnable = options.runnable ?? true;
  const parsed = dialgateConfigSchema.safeParse(raw);
  if (parsed.success) {
    const problems = semanticProblems(parsed.data, () => true, runnable);
    return problems.length > 0 ? { ok: false, problems } : { ok: true, config: parsed.data };
  }
  const problems: ConfigProblem[] = parsed.error.issues.flatMap((issue) =>
    // An unknown key is reported at its own path, so a typo points at itself.
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({
          path: formatConfigPath([...issue.path, key]),
          message: "unknown key (check the spelling against the configuration contract)",
        }))
      : [{ path: formatConfigPath(issue.path), message: issue.message }],
  );
  const parts = validParts(raw);
  if (parts !== null) problems.push(...semanticProblems(parts.config, (p) => parts.valid.has(p), runnable));
  return { ok: false, problems };
}

function semanticProblems(
  config: DialgateConfig,
  valid: (part: ConfigPart) => boolean,
  runnable: boolean,
): ConfigProblem[] {
  return SEMANTIC_CHECKS.filter((c) => (runnable || !c.runnableOnly) && c.reads.every(valid)).flatMap((c) =>
    c.run(config),
  );
}

/**
 * The parts of a document that pass the schema on their own, and a configuration made of them
 * (schema defaults or stand-ins where a part failed). Null when the document is not an object.
 */
export function validParts(raw: unknown): { config: DialgateConfig; valid: ReadonlySet<ConfigPart> } | null {
  if (!isRecord(raw)) return null;
  const valid = new Set<ConfigPart>();
  const config: Record<string, unknown> = {};
  const rawSip = isRecord(raw.sip) ? raw.sip : {};
  const sip: Record<string, unknown> = {};
  for (const [field, schema] of Object.entries(sipSchema.shape)) {
    const r = schema.safeParse(rawSip[field]);
    if (r.success) valid.add(`sip.${field as SipField}`);
    sip[field] = r.success ? r.data : fallback(schema, SIP_STAND_INS[field as SipField]);
  }
  config.sip = sip;
  for (const [section, schema] of Object.entries(dialgateConfigSchema.shape)) {
    if (section === "sip") continue;
    const r = schema.safeParse(raw[section]);
    if (r.success) valid.add(section as Section);
    config[section] = r.success ? r.data : schema.safeParse(undefined).data;
  }
  return { config: config as DialgateConfig, valid };
}

function fallback(schema: { safeParse(v: unknown): { success: boolean; data?: unknown } }, standIn: unknown) {
  const r = schema.safeParse(standIn);
  return r.success ? r.data : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
