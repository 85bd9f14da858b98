// `dialgate config check --config <file>`: exit 0 and a one-line summary if the file is valid;
// exit 1 and every problem, each with its path in the file, if not.
import { parseArgs } from "node:util";
import { type CliCommand, ExitCode } from "./io.js";
import { configPath, loadConfigOrReport } from "./load-config.js";

export const configCheck: CliCommand = async (argv, io) => {
  const { values } = parseArgs({ args: [...argv], options: { config: { type: "string" } }, strict: true });
  const file = configPath(values.config);
  const c = await loadConfigOrReport(file, io);
  if (c === null) return ExitCode.invalidConfig;
  const users = c.tenants.reduce((n, t) => n + t.users.length, 0);
  const plans = c.tenants.reduce((n, t) => n + t.dialPlans.plans.length + (t.dialPlans.global ? 1 : 0), 0);
  const routes = c.tenants.reduce((n, t) => n + t.voiceRoutes.length, 0);
  io.out(
    `${file}: valid (${c.tenants.length} tenant(s), ${users} user(s), ${plans} dial plan(s), ` +
      `${routes} voice route(s), ${c.gateways.length} gateway(s), ${c.carriers.length} carrier(s); edge ${c.sip.edge})`,
  );
  return ExitCode.ok;
};
