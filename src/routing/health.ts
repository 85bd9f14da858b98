// Gateway health by SIP OPTIONS (routing.md "Gateway health and capacity"): a gateway is
// healthy while an OPTIONS exchange with it, in either direction, succeeded within the last
// three intervals. Unhealthy gateways are not left out, only tried last.
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import type { OutboundRequester } from "./decision.js";
import type { PstnGateway } from "./gateways.js";

export interface GatewayHealth {
  isHealthy(gateway: PstnGateway): boolean;
  /** An OPTIONS exchange with this gateway succeeded (it pinged us, or answered our ping). */
  recordExchange(gateway: PstnGateway): void;
}

/** For tools (route test) and tests that do not model health. */
export const everyGatewayHealthy: GatewayHealth = {
  isHealthy: () => true,
  recordExchange: () => {},
};

/** Health windows are counted in intervals (routing.md: "within the last 3 intervals"). */
export const HEALTH_WINDOW_INTERVALS = 3;

export type HealthChangeListener = (gateway: PstnGateway, healthy: boolean) => void;

export interface GatewayHealthMonitorOptions {
  readonly gateways: readonly PstnGateway[];
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly requester: OutboundRequester;
  readonly logger: Logger;
  readonly onChange?: HealthChangeListener;
}

export class GatewayHealthMonitor implements GatewayHealth {
  private readonly lastExchange = new Map<string, number>();
  private readonly reported = new Map<string, boolean>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly monitored: readonly PstnGateway[];

  constructor(private readonly options: GatewayHealthMonitorOptions) {
    this.monitored = options.gateways.filter((g) => g.sendSipOptions);
    // A fresh start counts as an exchange: a gateway is presumed healthy until it has been
    // silent for the whole window, rather than demoted before the first ping went out.
    const start = options.clock.monotonic();
    for (const g of this.monitored) {
      this.lastExchange.set(g.fqdn, start);
      this.reported.set(g.fqdn, true);
    }
  }

  /**
   * Gateways with sendSipOptions: false are never probed, so nothing says they are down;
   * they count as healthy (unless they ping us and then go silent, which is not tracked).
   */
  isHealthy(gateway: PstnGateway): boolean {
    const last = this.lastExchange.get(gateway.fqdn);
    if (last === undefined) return true;
    return this.options.clock.monotonic() - last < HEALTH_WINDOW_INTERVALS * this.options.intervalMs;
  }

  recordExchange(gateway: PstnGateway): void {
    this.lastExchange.set(gateway.fqdn, this.options.clock.monotonic());
    this.evaluate();
  }

  /** Sends one OPTIONS to every monitored gateway and waits for all answers. */
  async probeAll(): Promise<void> {
    await Promise.all(this.monitored.map((g) => this.probe(g)));
    this.evaluate();
  }

  /** Logs (and reports) every health change since the last evaluation. */
  evaluate(): void {
    for (const g of this.monitored) {
      const healthy = this.isHealthy(g);
      if (this.reported.get(g.fqdn) === healthy) continue;
      this.reported.set(g.fqdn, healthy);
      const last = this.lastExchange.get(g.fqdn);
      const silentMs = last === undefined ? null : this.options.clock.monotonic() - last;
      if (healthy) this.options.logger.info({ gateway: g.fqdn }, "gateway healthy again");
      else this.options.logger.warn({ gateway: g.fqdn, silentMs }, "gateway unhealthy: no OPTIONS exchange");
      this.options.onChange?.(g, healthy);
    }
  }

  start(): void {
    if (this.timer !== null || this.monitored.length === 0) return;
    const tick = () => {
      this.probeAll().catch((err: unknown) => this.options.logger.error({ err }, "OPTIONS probe failed"));
    };
    this.timer = setInterval(tick, this.options.intervalMs);
    this.timer.unref();
    tick();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async probe(gateway: PstnGateway): Promise<void> {
    const destination = {
      host: gateway.address ?? gateway.fqdn,
      port: gateway.sipSignalingPort,
      transport: gateway.transport,
    };
    const status = await this.options.requester
      .sendOptions(destination, `sip:${gateway.fqdn}:${gateway.sipSignalingPort}`)
      .catch(() => null);
    // Any answer but a server failure shows the gateway processing SIP (a 404 or 405 to an
    // OPTIONS is a live gateway); 5xx/6xx and silence do not.
    if (status !== null && status >= 200 && status < 500 && status !== 408) this.recordExchange(gateway);
  }
}
