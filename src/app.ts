// Wiring: configuration -> router -> SIP edge. The only place that knows how the parts fit;
// nothing here runs on import.
import { CallEventBus } from "./calls/events.js";
import type { DialgateConfig } from "./config/schema.js";
import type { CallRouter, InboundRequest, RoutingDecision } from "./routing/decision.js";
import { NativeEdge, type NativeEdgeStats } from "./sip/native/native-edge.js";
import type { TimerService } from "./sip/native/timer-service.js";
import type { ListenAddress } from "./sip/native/transport-types.js";
import { type Clock, systemClock } from "./util/clock.js";
import { type Logger, silentLogger } from "./util/logger.js";

export interface DialgateDeps {
  /** The call router; defaults to `placeholderRouter` until the real router is wired (see TODO below). */
  readonly router?: CallRouter;
  readonly logger?: Logger;
  readonly events?: CallEventBus;
  readonly clock?: Clock;
  readonly timerService?: TimerService;
}

export interface Dialgate {
  readonly edge: NativeEdge;
  readonly events: CallEventBus;
  /** The SIP listen addresses with the ports actually bound (port 0 in the config picks one). */
  readonly listenAddresses: readonly ListenAddress[];
  readonly stats: NativeEdgeStats;
  /**
   * Graceful shutdown: new INVITEs get 503 + Retry-After, calls in progress get up to
   * `drainTimeoutMs` to end, then every socket is closed. Resolves true when the drain was clean.
   */
  shutdown(drainTimeoutMs: number): Promise<boolean>;
  /** Immediate stop (tests). */
  stop(): Promise<void>;
}

/**
 * A router that routes nothing: OPTIONS addressed to the proxy get 200, everything else 404.
 * It keeps `dialgate serve` runnable before the real router is wired in.
 */
export const placeholderRouter: CallRouter = {
  route(request: InboundRequest): RoutingDecision {
    if (request.method === "OPTIONS" && request.addressedToProxy)
      return { kind: "respond", status: 200, reason: "OK" };
    return { kind: "respond", status: 404, reason: "Not Found" };
  },
};

export async function startDialgate(config: DialgateConfig, deps: DialgateDeps = {}): Promise<Dialgate> {
  if (config.sip.edge !== "native")
    throw new Error(`sip.edge "${config.sip.edge}" is not available in this build; use "native"`);
  const logger = deps.logger ?? silentLogger();
  const events =
    deps.events ??
    new CallEventBus((err, event) =>
      logger.error(
        { err: err instanceof Error ? err.message : String(err), event: event.type },
        "call event listener failed",
      ),
    );
  // TODO(routing): wire the real router here once src/routing exports it:
  //   const router = deps.router ?? createCallRouter(config, { clock, random, store, outbound: edge });
  const router = deps.router ?? placeholderRouter;
  const edge = new NativeEdge({
    settings: config.sip,
    router,
    events,
    logger,
    clock: deps.clock ?? systemClock,
    ...(deps.timerService ? { timerService: deps.timerService } : {}),
  });
  const listenAddresses = await edge.start();
  return {
    edge,
    events,
    listenAddresses,
    get stats() {
      return edge.stats;
    },
    async shutdown(drainTimeoutMs: number) {
      const clean = await edge.drain(drainTimeoutMs);
      await edge.stop();
      return clean;
    },
    stop: () => edge.stop(),
  };
}
