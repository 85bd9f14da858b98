// `dialgate config check --config <file>`: exit 0 and a one-line summary if the file is valid;
// exit 1 and every problem, each with its path in the file, if not.
import { parseArgs } from "node:util";
import { DEFAULT_CONFIG_PATH, loadConfigFile } from "../config/load.js";
import { describeProblem } from "../config/problem.js";
import { type CliCommand, ExitCode } from "./io.js";

export const configCheck: CliCommand = async (argv, io) => {
  const { values } = parseArgs({ args: [...argv], options: { config: { type: "string" } }, strict: true });
  const file = values.config ?? process.env.DIALGATE_CONFIG ?? DEFAULT_CONFIG_PATH;
  const result = await loadConfigFile(file);
  if (!result.ok) {
    io.err(`${file}: ${result.problems.length} problem(s)`);
    for (const p of result.problems) io.err(describeProblem(p));
    return ExitCode.invalidConfig;
  }
  const c = result.config;
  const users = c.tenants.reduce((n, t) => n + t.users.length, 0);
  const plans = c.tenants.reduce((n, t) => n + t.dialPlans.plans.length + (t.dialPlans.global ? 1 : 0), 0);
  const routes = c.tenants.reduce((n, t) => n + t.voiceRoutes.length, 0);
  io.out(
    `${file}: valid (${c.tenants.length} tenant(s), ${users} user(s), ${plans} dial plan(s), ` +
      `${routes} voice route(s), ${c.gateways.length} gateway(s), ${c.carriers.length} carrier(s); edge ${c.sip.edge})`,
  );
  return ExitCode.ok;
};
