// Loading a configuration file: read, parse YAML or JSON, validate the whole file against
// the schema, then run the semantic validators (references between objects, dial plan
// limits and regexes). Nothing is half-applied: the result is either a complete, valid
// configuration or the list of every problem found.
import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import { validateDialPlans } from "../dialplan/validate-config.js";
import { validateRouting } from "../routing/validate-config.js";
import { type ConfigProblem, formatConfigPath } from "./problem.js";
import { validateReferences } from "./references.js";
import { type DialgateConfig, dialgateConfigSchema } from "./schema.js";
import { validateSecuritySettings } from "./security-checks.js";

export type ConfigLoadResult =
  | { readonly ok: true; readonly config: DialgateConfig }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

export const DEFAULT_CONFIG_PATH = "config/dialgate.yaml";

/**
 * Validates an already-parsed document (YAML/JSON value), in two stages: the schema (shape,
 * types, unknown keys), then -- only on a document of the right shape -- the semantic checks
 * (references, dial plan limits and regexes). A file with shape problems therefore lists those
 * first; its semantic problems appear once the shape is fixed.
 */
export function validateConfig(raw: unknown): ConfigLoadResult {
  const parsed = dialgateConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) =>
      // An unknown key is reported at its own path, so a typo points at itself.
      issue.code === "unrecognized_keys"
        ? issue.keys.map((key) => ({
            path: formatConfigPath([...issue.path, key]),
            message: "unknown key (check the spelling against the configuration contract)",
          }))
        : [{ path: formatConfigPath(issue.path), message: issue.message }],
    );
    return { ok: false, problems };
  }
  const config = parsed.data;
  const problems = [
    ...validateReferences(config),
    ...validateDialPlans(config),
    ...validateRouting(config),
    ...validateSecuritySettings(config),
  ];
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}

/** Parses YAML (a superset of JSON) text and validates it. */
export function parseConfigText(text: string): ConfigLoadResult {
  // YAML 1.2 core schema: `no`/`on` stay strings and JSON files parse unchanged.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "(file)",
        message: e.message.split("\n")[0] ?? e.message,
      })),
    };
  }
  return validateConfig(doc.toJS());
}

export async function loadConfigFile(file: string): Promise<ConfigLoadResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : String(err);
    return { ok: false, problems: [{ path: file, message: `cannot read configuration: ${reason}` }] };
  }
  return parseConfigText(text);
}
