// `dialgate route test --config <file> --user <id> --number <dialled> [--seed <n>] [--json]`:
// prints src/routing/route-test.ts's report (the same as POST /v1/admin/route/test). Exit 0
// whenever a result was computed (a rejection is a result); 2 for an unknown user, a number that
// cannot be dialled or an invalid configuration.
import { parseArgs } from "node:util";
import { type RouteTestReport, routeTest as runRouteTest } from "../routing/route-test.js";
import { type CliCommand, type CliIo, ExitCode } from "./io.js";
import { configPath, loadConfigOrReport } from "./load-config.js";

const COMMAND = "dialgate route test";

const options = {
  config: { type: "string" },
  user: { type: "string" },
  number: { type: "string" },
  seed: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

export const routeTest: CliCommand = async (argv, io) => {
  const { values } = parseArgs({ args: [...argv], options, strict: true });
  if (values.user === undefined || values.user === "") return fail(io, "--user is required");
  if (values.number === undefined || values.number === "") return fail(io, "--number is required");
  let seed: number;
  if (values.seed === undefined) seed = Math.floor(Math.random() * 2 ** 31);
  else if (/^\d{1,10}$/.test(values.seed)) seed = Number(values.seed);
  else return fail(io, `--seed must be a non-negative integer, not '${values.seed}'`);

  const config = await loadConfigOrReport(configPath(values.config), io, `${COMMAND}: `, {
    checkFiles: false,
  });
  if (config === null) return ExitCode.cannotCompute;
  const outcome = await runRouteTest(config, { user: values.user, number: values.number, seed });
  if (!outcome.ok) return fail(io, outcome.message);
  if (values.json) io.out(JSON.stringify(outcome.report));
  else printReport(outcome.report, io);
  return ExitCode.ok;
};

function fail(io: CliIo, message: string): number {
  io.err(`${COMMAND}: ${message}`);
  return ExitCode.cannotCompute;
}

function printReport(r: RouteTestReport, io: CliIo): void {
  io.out(`User:              ${r.user} (tenant ${r.tenant})`);
  io.out(`Dialled:           ${r.dialled}`);
  if (r.normalization !== null) {
    const n = r.normalization;
    io.out(
      `Normalized number: ${n.translatedNumber} (rule ${n.matchingRule ?? "none"}${n.fallbackApplied ? ", country fallback" : ""}; ${n.effectiveTenantDialPlanName})`,
    );
  }
  if (r.emergency !== null) {
    io.out(
      `Emergency:         ${r.emergency.matched} -> ${r.emergency.dialString} (policy ${r.emergency.policy}, usage ${r.emergency.usage})`,
    );
  }
  if (r.rejection !== null) {
    io.out(`Rejected:          ${r.rejection.status} ${r.rejection.reason} (${r.rejection.detail})`);
    return;
  }
  if (r.callee !== null) {
    io.out(`Internal call to:  ${r.callee.user} (${r.callee.contact ?? "registered contacts only"})`);
    return;
  }
  io.out(`Call type:         ${r.callType}`);
  io.out(`PSTN usage:        ${r.usage}`);
  io.out(`Attempts (seed ${r.seed}):`);
  for (const a of r.attempts) {
    io.out(
      `  ${a.step}. route ${a.route}, gateway ${a.gateway}: ${a.requestUri} -> ${a.destination}` +
        ` (failover on ${a.failoverResponseCodes.join("/") || "none"} or after ${a.failoverTimeSeconds} s)`,
    );
  }
  for (const s of r.skipped) io.out(`  skipped: gateway ${s.gateway} of route ${s.route} (${s.why})`);
}
