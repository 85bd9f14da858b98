// A problem found in a configuration, with the path of the offending value in the file
// (for example `tenants[0].dialPlans.plans[2].normalizationRules[4].pattern`).
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/** Formats a path of keys and indices the way config.md writes them: `a.b[2].c`. */
export function formatConfigPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(root)" : out;
}

export function describeProblem(p: ConfigProblem): string {
  return `${p.path}: ${p.message}`;
}
