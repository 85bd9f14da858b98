// The SIPp UAC of the load benches (bench:load, bench:overload, bench:held): a tenant user of
// the bench configuration places `calls` calls at `rate` through the proxy, with the end-to-end
// tests' scenario, and writes its statistics to `csv`.
import { join } from "node:path";

/** The scenario (`sipp-scenarios/`); SIPp names its message log after it. */
export const UAC_SCENARIO = "uac-user-call-follow-route.xml";

export interface UacRun {
  readonly proxyPort: number;
  readonly uacPort: number;
  /** The folder of the SIPp scenarios (`sipp-scenarios/`). */
  readonly scenarios: string;
  readonly rate: number;
  readonly calls: number;
  /** SIPp's `-d` (the scenario's pause: how long a call is held); SIPp's default when absent. */
  readonly holdMs?: number;
  /** SIPp's `-l`: calls up at once. */
  readonly limit: number;
  /** SIPp's `-timeout`, e.g. `60s`. */
  readonly timeout: string;
  readonly csv: string;
  /** Extra flags (message traces). */
  readonly trace?: readonly string[];
}

export function uacArgs(o: UacRun): string[] {
  return [
    `127.0.0.1:${o.proxyPort}`,
    ...["-sf", join(o.scenarios, UAC_SCENARIO)],
    ...["-key", "from_user", "caller", "-key", "from_domain", "bench.example"],
    ...["-i", "127.0.0.1", "-p", String(o.uacPort), "-s", "4255550100"],
    ...["-r", String(o.rate), "-m", String(o.calls)],
    ...(o.holdMs === undefined ? [] : ["-d", String(o.holdMs)]),
    ...["-l", String(o.limit), "-nostdin", "-timeout", o.timeout],
    ...["-trace_stat", "-stf", o.csv, "-fd", "1"],
    ...(o.trace ?? []),
  ];
}
