// How every command finds and loads its configuration: --config, else DIALGATE_CONFIG, else the
// default path; an invalid file is reported with every problem and its path, on stderr.
import { DEFAULT_CONFIG_PATH, type LoadOptions, loadConfigFile } from "../config/load.js";
import { describeProblem } from "../config/problem.js";
import type { DialgateConfig } from "../config/schema.js";
import type { CliIo } from "./io.js";

export function configPath(flag: string | undefined): string {
  return flag ?? process.env.DIALGATE_CONFIG ?? DEFAULT_CONFIG_PATH;
}

/**
 * Loads `file`, or prints `<prefix><file>: invalid configuration, N problem(s)` and each problem
 * and returns null. `prefix` names the command (`"dialgate route test: "`), or is empty. The
 * files the configuration names are checked too, unless the command never opens them.
 */
export async function loadConfigOrReport(
  file: string,
  io: CliIo,
  prefix = "",
  options: LoadOptions = {},
): Promise<DialgateConfig | null> {
  const loaded = await loadConfigFile(file, options);
  if (loaded.ok) return loaded.config;
  io.err(`${prefix}${file}: invalid configuration, ${loaded.problems.length} problem(s)`);
  for (const p of loaded.problems) io.err(describeProblem(p));
  return null;
}
