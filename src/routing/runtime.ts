// The routing runtime as the app wires it: the router plus the stateful services behind its
// ports (OPTIONS health monitor, in-process capacity counter fed by call events, registration
// store). One call builds them; start/stop run the OPTIONS timer.
import type { CallEventBus } from "../calls/events.js";
import { InProcessGatewayCapacity } from "../calls/gateway-call-counter.js";
import type { DialgateConfig } from "../config/schema.js";
import { InMemoryRegistrationStore, type RegistrationStore } from "../directory/registrations.js";
import type { Clock, RandomSource } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import type { GatewayCapacity } from "./capacity.js";
import { type CallRouterDeps, createCallRouter } from "./create-router.js";
import type { CallRouter, OutboundRequester } from "./decision.js";
import { GatewayHealthMonitor, type HealthChangeListener } from "./health.js";

export interface RoutingRuntimeOptions {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  /** The edge's way of sending OPTIONS pings. */
  readonly requester: OutboundRequester;
  /** Call events from the edge (capacity counting). */
  readonly events: CallEventBus;
  /** Default: in memory. */
  readonly registrations?: RegistrationStore;
  /** Default: counted in this process from `events`. */
  readonly capacity?: GatewayCapacity;
  readonly onHealthChange?: HealthChangeListener;
  readonly overrides?: Partial<CallRouterDeps>;
}

export interface RoutingRuntime {
  readonly router: CallRouter;
  readonly health: GatewayHealthMonitor;
  readonly capacity: GatewayCapacity;
  readonly registrations: RegistrationStore;
  start(): void;
  stop(): void;
}

export function createRoutingRuntime(config: DialgateConfig, options: RoutingRuntimeOptions): RoutingRuntime {
  const logger = options.logger;
  const health = new GatewayHealthMonitor({
    gateways: config.gateways,
    clock: options.clock,
    intervalMs: config.sip.optionsIntervalSeconds * 1000,
    requester: options.requester,
    logger: logger.child({ component: "gateway-health" }),
    ...(options.onHealthChange ? { onChange: options.onHealthChange } : {}),
  });
  let detach: (() => void) | null = null;
  let capacity = options.capacity;
  if (capacity === undefined) {
    const counter = new InProcessGatewayCapacity(
      config.gateways,
      logger.child({ component: "gateway-capacity" }),
    );
    detach = counter.attach(options.events);
    capacity = counter;
  }
  const registrations = options.registrations ?? new InMemoryRegistrationStore();
  const router = createCallRouter(config, {
    clock: options.clock,
    random: options.random,
    logger,
    registrations,
    health,
    capacity,
    ...options.overrides,
  });
  return {
    router,
    health,
    capacity,
    registrations,
    start: () => health.start(),
    stop: () => {
      health.stop();
      detach?.();
      detach = null;
    },
  };
}
