// `dialgate dialplan test` and `dialgate dialplan effective`: test a dialled number against a
// user's effective dial plan, and show that plan's rules in evaluation order. Exit 0 whenever a
// result was computed; exit 2 with a clear message for an unknown user, bad input or an invalid
// configuration (the interface is used by acceptance checks: keep it stable).
import { parseArgs } from "node:util";
import { dialPlanTest, effectiveDialPlanReport } from "../dialplan/dialplan-report.js";
import { createDialPlanEngine, type DialPlanEngine } from "../dialplan/index.js";
import type { NormalizationResult } from "../dialplan/normalize.js";
import { type CliCommand, type CliIo, ExitCode } from "./io.js";
import { configPath, loadConfigOrReport } from "./load-config.js";

const options = {
  config: { type: "string" },
  user: { type: "string" },
  number: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

async function loadEngine(file: string, command: string, io: CliIo): Promise<DialPlanEngine | null> {
  const config = await loadConfigOrReport(file, io, `dialgate ${command}: `, { checkFiles: false });
  return config === null ? null : createDialPlanEngine(config);
}

function requireOption(value: string | undefined, name: string, command: string, io: CliIo): value is string {
  if (value === undefined || value === "") {
    io.err(`dialgate ${command}: --${name} is required`);
    return false;
  }
  return true;
}

function humanResult(r: NormalizationResult, io: CliIo): void {
  io.out(`Translated number:      ${r.translatedNumber}`);
  io.out(
    `Matching rule:          ${
      r.matchingRule === null
        ? "(none)"
        : `${r.matchingRule.name} (plan ${r.matchingRule.plan}): ${r.matchingRule.pattern} -> ${r.matchingRule.translation}${
            r.matchingRule.isInternalExtension ? " [internal extension]" : ""
          }`
    }`,
  );
  io.out(`Effective dial plan:    ${r.effectiveTenantDialPlanName}`);
  io.out(`Fallback applied:       ${r.fallbackApplied ? "yes" : "no"}`);
  io.out(`Access prefix stripped: ${r.externalAccessPrefixStripped ? "yes" : "no"}`);
  r.passes.forEach((p, i) => {
    io.out(
      `Pass ${i + 1}:                 ${p.input} -> ${p.translatedNumber} (${p.matchingRule?.name ?? "no rule matched"})`,
    );
  });
}

export const dialplanTest: CliCommand = async (argv, io) => {
  const command = "dialplan test";
  const { values } = parseArgs({ args: [...argv], options, strict: true });
  if (!requireOption(values.user, "user", command, io)) return ExitCode.cannotCompute;
  if (values.number === undefined) {
    io.err(`dialgate ${command}: --number is required`);
    return ExitCode.cannotCompute;
  }
  const engine = await loadEngine(configPath(values.config), command, io);
  if (engine === null) return ExitCode.cannotCompute;
  const r = dialPlanTest(engine, values.user, values.number);
  if (!r.ok) {
    io.err(`dialgate ${command}: ${r.error.message} [${r.error.code}]`);
    return ExitCode.cannotCompute;
  }
  if (values.json) io.out(JSON.stringify(r.value));
  else humanResult(r.value, io);
  return ExitCode.ok;
};

export const dialplanEffective: CliCommand = async (argv, io) => {
  const command = "dialplan effective";
  const { values } = parseArgs({ args: [...argv], options, strict: true });
  if (!requireOption(values.user, "user", command, io)) return ExitCode.cannotCompute;
  const engine = await loadEngine(configPath(values.config), command, io);
  if (engine === null) return ExitCode.cannotCompute;
  const plan = effectiveDialPlanReport(engine, values.user);
  if (plan === null) {
    io.err(
      `dialgate ${command}: unknown user '${values.user}'; users are identified by their SIP address [unknown_user]`,
    );
    return ExitCode.cannotCompute;
  }
  const rules = plan.normalizationRules;
  if (values.json) {
    io.out(JSON.stringify(plan));
    return ExitCode.ok;
  }
  io.out(`Effective dial plan: ${plan.effectiveTenantDialPlanName}`);
  io.out(`Tenant dial plan:    ${plan.tenantDialPlan ?? "(none)"}`);
  io.out(
    `Service country:     ${plan.serviceCountry} (${plan.serviceCountryPlan ?? "no plan"}, +${plan.countryCallingCode ?? "?"})`,
  );
  io.out(`External access prefix: ${plan.externalAccessPrefix ?? "(none)"}`);
  io.out("Normalization rules, in evaluation order:");
  rules.forEach((r, i) => {
    io.out(
      `${String(i + 1).padStart(3)}. ${r.name} [${r.plan}] ${r.pattern} -> ${r.translation}${
        r.isInternalExtension ? " (internal extension)" : ""
      }${r.engine === "linear" ? " (linear-time engine)" : ""}`,
    );
  });
  return ExitCode.ok;
};
