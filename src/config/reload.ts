// Live reload (issue #15; config.md: "A running proxy that is asked to reload an invalid file
// keeps its current configuration"). The file is validated as a whole first; only a valid one is
// applied, and it is applied as one swap: new requests see the new router, calls in progress
// keep the decision (targets, failover steps) they were routed with, and in-dialog requests
// never consult the router at all. Settings that belong to sockets already bound take effect on
// the next start; the reload says which ones changed.
import type { ConfigProblem } from "./problem.js";
import type { DialgateConfig } from "./schema.js";

export type ReloadOutcome =
  | {
      readonly ok: true;
      /** Fields that changed but need a restart to take effect (listen addresses, HTTP, Redis...). */
      readonly restartNeeded: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** Where a setting lives once started: paths whose change a reload cannot apply. */
const RESTART_ONLY_PATHS: readonly [string, (c: DialgateConfig) => unknown][] = [
  ["sip.edge", (c) => c.sip.edge],
  ["sip.listen", (c) => c.sip.listen],
  ["sip.recordRouteHost", (c) => c.sip.recordRouteHost],
  ["sip.drachtio", (c) => c.sip.drachtio],
  ["sip.timers", (c) => c.sip.timers],
  ["sip.maxMessageBytes", (c) => c.sip.maxMessageBytes],
  ["sip.limits.maxHeaders", (c) => c.sip.limits.maxHeaders],
  ["sip.limits.idleConnectionSeconds", (c) => c.sip.limits.idleConnectionSeconds],
  ["sip.dnsServers", (c) => c.sip.dnsServers],
  ["http", (c) => c.http],
  ["redis", (c) => c.redis],
  ["cdr", (c) => c.cdr],
];

/** The restart-only settings that differ between the running and the reloaded configuration. */
export function restartOnlyChanges(running: DialgateConfig, next: DialgateConfig): string[] {
  return RESTART_ONLY_PATHS.filter(
    ([, read]) => JSON.stringify(read(running)) !== JSON.stringify(read(next)),
  ).map(([path]) => path);
}
