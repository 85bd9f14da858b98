// Loading a configuration file: read, parse YAML or JSON, validate the whole document
// (validate.ts: the schema, then every semantic check that can run on what passed it), then the
// files it names (tls-files.ts). Nothing is half-applied: the result is either a complete, valid
// configuration or the list of every problem found, whatever stage found it.
import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import type { ConfigProblem } from "./problem.js";
import type { DialgateConfig } from "./schema.js";
import { listensOnTls, validateTlsFiles } from "./tls-files.js";
import { type ConfigValidation, validateConfig, validParts } from "./validate.js";

export { validateConfig } from "./validate.js";

export type ConfigLoadResult = ConfigValidation;

export const DEFAULT_CONFIG_PATH = "config/dialgate.yaml";

export interface LoadOptions {
  /**
   * Also check the files the configuration names (TLS certificate, key, trust anchors), as a
   * start or a reload reads them (default true). Commands that never open them may skip it.
   */
  readonly checkFiles?: boolean;
}

type Parsed =
  | { readonly ok: true; readonly document: unknown }
  | { readonly ok: false; readonly problems: ConfigProblem[] };

/** YAML (a superset of JSON) text to a document, or its syntax errors. */
function parseText(text: string): Parsed {
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
  return { ok: true, document: doc.toJS() };
}

/** Parses YAML text and validates it (without reading the files it names). */
export function parseConfigText(text: string): ConfigLoadResult {
  const parsed = parseText(text);
  return parsed.ok ? validateConfig(parsed.document) : parsed;
}

export async function loadConfigFile(file: string, options: LoadOptions = {}): Promise<ConfigLoadResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : String(err);
    return { ok: false, problems: [{ path: file, message: `cannot read configuration: ${reason}` }] };
  }
  const parsed = parseText(text);
  if (!parsed.ok) return parsed;
  const validated = validateConfig(parsed.document);
  if (options.checkFiles === false) return validated;
  // The files of a `sip.tls` that passed the schema, even when another part of the file did not,
  // and only when a `tls` listener will use them: without one nothing speaks TLS (a `tls` gateway
  // needs a `tls` listener, security-checks.ts), so a `sip.tls` kept for later, as in config.md's
  // example, is not read. When `sip.listen` itself is invalid the files are checked all the same.
  const sip: Pick<DialgateConfig["sip"], "tls" | "listen"> | undefined = validated.ok
    ? validated.config.sip
    : (() => {
        const parts = validParts(parsed.document);
        if (parts === null || !parts.valid.has("sip.tls")) return undefined;
        return parts.valid.has("sip.listen") ? parts.config.sip : { tls: parts.config.sip.tls, listen: [] };
      })();
  const checkFiles = sip === undefined || sip.listen.length === 0 || listensOnTls(sip.listen);
  const fileProblems = checkFiles ? await validateTlsFiles(sip?.tls) : [];
  if (fileProblems.length === 0) return validated;
  return { ok: false, problems: [...(validated.ok ? [] : validated.problems), ...fileProblems] };
}
