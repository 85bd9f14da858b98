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
//
// The lists of named objects (gateways, translationRules, tenants, carriers) are parts object by
// object: one gateway with a bad port must not hide an unknown translation rule in another, or in
// a tenant. A check sees the objects that passed, its problems keep their paths in the file, and
// a reference to an object that failed (its name still readable) is not also called unknown.
import { validateDialPlans } from "../dialplan/validate-config.js";
import { validateRouting } from "../routing/validate-config.js";
import { type ConfigProblem, formatConfigPath } from "./problem.js";
import { type DefinedElsewhere, type NamedSection, validateReferences } from "./references.js";
import {
  carrierSchema,
  type DialgateConfig,
  dialgateConfigSchema,
  pstnGatewaySchema,
  sipSchema,
  tenantSchema,
  translationRuleSchema,
} from "./schema.js";
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
  readonly run: (config: DialgateConfig, elsewhere: DefinedElsewhere) => ConfigProblem[];
  readonly runnableOnly?: boolean;
}

/** Each list of named objects: the schema of one object and the field that names it. */
const NAMED_OBJECTS: Record<NamedSection, { readonly schema: ObjectSchema; readonly nameField: string }> = {
  gateways: { schema: pstnGatewaySchema, nameField: "fqdn" },
  translationRules: { schema: translationRuleSchema, nameField: "identity" },
  tenants: { schema: tenantSchema, nameField: "id" },
  carriers: { schema: carrierSchema, nameField: "id" },
};

interface ObjectSchema {
  safeParse(v: unknown): { success: boolean; data?: unknown };
}

/** A list of named objects of which only some passed the schema. */
interface PartialList {
  /** For each object kept, its index in the file. */
  readonly indices: readonly number[];
  /** The names of the objects that failed, where readable. */
  readonly failedNames: readonly string[];
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
  if (parts !== null) {
    const readable = (p: ConfigPart) => parts.valid.has(p) || parts.partial.has(p as NamedSection);
    problems.push(...semanticProblems(parts.config, readable, runnable, parts.partial));
  }
  return { ok: false, problems };
}

function semanticProblems(
  config: DialgateConfig,
  valid: (part: ConfigPart) => boolean,
  runnable: boolean,
  partial: ReadonlyMap<NamedSection, PartialList> = new Map(),
): ConfigProblem[] {
  const elsewhere: DefinedElsewhere = Object.fromEntries(
    [...partial].map(([section, list]) => [section, list.failedNames]),
  );
  return SEMANTIC_CHECKS.filter((c) => (runnable || !c.runnableOnly) && c.reads.every(valid))
    .flatMap((c) => c.run(config, elsewhere))
    .map((p) => ({ ...p, path: pathInFile(p.path, partial) }));
}

const LIST_INDEX = /^(gateways|translationRules|tenants|carriers)\[(\d+)\]/;

/** A problem's path in the checked lists, as the path of the same object in the file. */
function pathInFile(path: string, partial: ReadonlyMap<NamedSection, PartialList>): string {
  const m = LIST_INDEX.exec(path);
  if (m === null) return path;
  const list = partial.get(m[1] as NamedSection);
  const index = list?.indices[Number(m[2])];
  return index === undefined ? path : `${m[1]}[${index}]${path.slice(m[0].length)}`;
}

/**
 * The parts of a document that pass the schema on their own, and a configuration made of them
 * (schema defaults or stand-ins where a part failed). Null when the document is not an object.
 */
export function validParts(raw: unknown): {
  config: DialgateConfig;
  valid: ReadonlySet<ConfigPart>;
  /** Lists of named objects that failed as a whole: the objects that passed, and where they were. */
  partial: ReadonlyMap<NamedSection, PartialList>;
} | null {
  if (!isRecord(raw)) return null;
  const valid = new Set<ConfigPart>();
  const partial = new Map<NamedSection, PartialList>();
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
    const named = NAMED_OBJECTS[section as NamedSection];
    const items = raw[section];
    if (!r.success && named !== undefined && Array.isArray(items)) {
      const kept: unknown[] = [];
      const indices: number[] = [];
      const failedNames: string[] = [];
      items.forEach((item, i) => {
        const one = named.schema.safeParse(item);
        if (one.success) {
          kept.push(one.data);
          indices.push(i);
        } else {
          const name = isRecord(item) ? item[named.nameField] : undefined;
          if (typeof name === "string") failedNames.push(name);
        }
      });
      config[section] = kept;
      partial.set(section as NamedSection, { indices, failedNames });
    }
  }
  return { config: config as DialgateConfig, valid, partial };
}

function fallback(schema: ObjectSchema, standIn: unknown) {
  const r = schema.safeParse(standIn);
  return r.success ? r.data : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
