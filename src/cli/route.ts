// `dialgate route test --config <file> --user <id> --number <dialled> [--seed <n>] [--json]`:
// what the router would do with a call from this user to this number — the normalized number
// and the ordered gateway attempts (usage, route, gateway, Request-URI), the internal callee,
// or the rejection. Every gateway counts as healthy and below capacity, and no registration is
// known: the command shows the configuration's plan, not the live state. Exit 0 whenever a
// result was computed (a rejection is a result); 2 for an unknown user, a number that cannot be
// dialled or an invalid configuration.
import { parseArgs } from "node:util";
import { InMemoryRegistrationStore } from "../directory/registrations.js";
import {
  createRoutingContext,
  everyGatewayHealthy,
  type OutboundPlan,
  planOutboundCall,
  unlimitedCapacity,
} from "../routing/index.js";
import { seededRandom, systemClock } from "../util/clock.js";
import { silentLogger } from "../util/logger.js";
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

  const config = await loadConfigOrReport(configPath(values.config), io, `${COMMAND}: `);
  if (config === null) return ExitCode.cannotCompute;
  const ctx = createRoutingContext(config, {
    clock: systemClock,
    random: seededRandom(seed),
    logger: silentLogger(),
    registrations: new InMemoryRegistrationStore(),
    health: everyGatewayHealthy,
    capacity: unlimitedCapacity,
  });
  const user = ctx.directory.userById(values.user);
  if (user === undefined) {
    return fail(
      io,
      `unknown user '${values.user}'; users are identified by their SIP address (tenants[].users[].id)`,
    );
  }
  // A string that cannot be dialled is a usage problem here, not a call to reject.
  const cleaned = ctx.dialPlan.clean(values.number);
  if (!cleaned.ok) return fail(io, cleaned.error);
  const normalized = ctx.dialPlan.normalize(user.id, values.number);
  if (!normalized.ok) return fail(io, normalized.error);

  const plan = await planOutboundCall(ctx, user, values.number);
  const report = toReport(plan, user.id, user.tenant.id, seed);
  if (values.json) io.out(JSON.stringify(report));
  else printReport(report, io);
  return ExitCode.ok;
};

function fail(io: CliIo, message: string): number {
  io.err(`${COMMAND}: ${message}`);
  return ExitCode.cannotCompute;
}

interface RouteTestReport {
  readonly user: string;
  readonly tenant: string;
  readonly dialled: string;
  readonly seed: number;
  readonly normalization: Extract<OutboundPlan, { kind: "pstn" }>["normalization"];
  readonly emergency: Extract<OutboundPlan, { kind: "pstn" }>["emergency"];
  readonly outcome: "gateways" | "internal" | "rejected";
  readonly callType: "dr_out" | "dr_emergency_out" | "internal" | null;
  readonly number: string | null;
  readonly usage: string | null;
  readonly attempts: readonly {
    readonly step: number;
    readonly usage: string;
    readonly route: string;
    readonly gateway: string;
    readonly requestUri: string;
    readonly destination: string;
    readonly translationRule: string | null;
    readonly failoverResponseCodes: readonly number[];
    readonly failoverTimeSeconds: number;
  }[];
  readonly skipped: readonly { readonly route: string; readonly gateway: string; readonly why: string }[];
  readonly callee: { readonly user: string; readonly contact: string | null } | null;
  readonly rejection: { readonly status: number; readonly reason: string; readonly detail: string } | null;
}

function toReport(plan: OutboundPlan, user: string, tenant: string, seed: number): RouteTestReport {
  const base = { user, tenant, dialled: plan.dialled, seed, normalization: plan.normalization };
  switch (plan.kind) {
    case "pstn":
      return {
        ...base,
        emergency: plan.emergency,
        outcome: "gateways",
        callType: plan.emergency === null ? "dr_out" : "dr_emergency_out",
        number: plan.number,
        usage: plan.usage,
        attempts: plan.attempts.map((a, i) => ({
          step: i + 1,
          usage: a.usage,
          route: a.route,
          gateway: a.gateway.fqdn,
          requestUri: a.requestUri,
          destination: `${a.destination.host}:${a.destination.port};transport=${a.destination.transport}`,
          translationRule: a.translationRule,
          failoverResponseCodes: a.gateway.failoverResponseCodes,
          failoverTimeSeconds: a.gateway.failoverTimeSeconds,
        })),
        skipped: plan.skipped.map((s) => ({ route: s.route, gateway: s.fqdn, why: s.why })),
        callee: null,
        rejection: null,
      };
    case "internal":
      return {
        ...base,
        emergency: null,
        outcome: "internal",
        callType: "internal",
        number: plan.number,
        usage: null,
        attempts: [],
        skipped: [],
        callee: { user: plan.callee.id, contact: plan.callee.config.contact ?? null },
        rejection: null,
      };
    case "rejected":
      return {
        ...base,
        emergency: plan.emergency,
        outcome: "rejected",
        callType: null,
        number: null,
        usage: null,
        attempts: [],
        skipped: [],
        callee: null,
        rejection: { status: plan.status, reason: plan.reason, detail: plan.detail },
      };
  }
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
