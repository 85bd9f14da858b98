// The routing module's public face: the router factory, the ports it needs (health,
// capacity, dial plans, gateway addresses) and the services behind them.

export type { GatewayCapacity } from "./capacity.js";
export { unlimitedCapacity } from "./capacity.js";
export {
  type CallRouterDeps,
  createCallRouter,
  createRoutingContext,
  DEFAULT_MAX_BINDINGS_PER_USER,
  DEFAULT_NONCE_LIFETIME_SECONDS,
} from "./create-router.js";
export { configDialPlan, dotnetDialect, engineDialPlan } from "./dial-plan-adapter.js";
export type { CallerDialPlan, Normalization, RoutingRegexDialect } from "./dial-plan-port.js";
export { type HostLookup, ResolvingGatewayAddressBook } from "./gateway-dns.js";
export { type GatewayAddressBook, GatewayDirectory, type PstnGateway } from "./gateways.js";
export { everyGatewayHealthy, type GatewayHealth, GatewayHealthMonitor } from "./health.js";
export { type OutboundPlan, planOutboundCall } from "./outbound.js";
export type { RoutingContext } from "./routing-context.js";
export { createRoutingRuntime, type RoutingRuntime, type RoutingRuntimeOptions } from "./runtime.js";
