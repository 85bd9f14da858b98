// The capacity port (routing.md: `maxConcurrentSessions`): whether a gateway already carries as
// many calls as it may. The in-process counter lives in src/calls (it counts call events); a
// cluster-wide Redis counter implements the same interface.
import type { PstnGateway } from "./gateways.js";

export interface GatewayCapacity {
  /** The subset of these gateways that take no new call now. */
  atCapacity(gateways: readonly PstnGateway[]): ReadonlySet<string> | Promise<ReadonlySet<string>>;
}

export const unlimitedCapacity: GatewayCapacity = {
  atCapacity: () => new Set<string>(),
};
