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
  // The primary forked its workers and gave each its own ports: a new count or base needs a restart.
  ["sip.workers", (c) => c.sip.workers],
  ["sip.workerPortBase", (c) => c.sip.workerPortBase],
  ["http", (c) => c.http],
  ["redis", (c) => c.redis],
  ["cdr", (c) => c.cdr],
];

/**
 * With Redis the router is built from each routing version merged with the instance settings the
 * shared state opened with (src/store/redis/shared-routing.ts): the router's own settings wait
 * for a restart there, while without Redis a reload builds a new router from the file.
 */
const RESTART_ONLY_WITH_SHARED_ROUTING: readonly [string, (c: DialgateConfig) => unknown][] = [
  ["sip.registrar", (c) => c.sip.registrar],
  ["sip.optionsIntervalSeconds", (c) => c.sip.optionsIntervalSeconds],
];

/** The restart-only settings that differ between the running and the reloaded configuration. */
export function restartOnlyChanges(
  running: DialgateConfig,
  next: DialgateConfig,
  options: { readonly sharedRouting?: boolean } = {},
): string[] {
  const paths = options.sharedRouting
    ? [...RESTART_ONLY_PATHS, ...RESTART_ONLY_WITH_SHARED_ROUTING]
    : RESTART_ONLY_PATHS;
  return paths
    .filter(([, read]) => JSON.stringify(read(running)) !== JSON.stringify(read(next)))
    .map(([path]) => path);
}
