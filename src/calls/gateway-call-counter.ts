// Calls in progress per PSTN gateway, counted in this process from the edge's call events, for
// `maxConcurrentSessions` (routing.md). A call holds a gateway from the moment an attempt is
// sent to it until that attempt fails or the call ends; every end of a call releases whatever
// it still holds, so no event sequence can leak capacity. Shared deployments replace this with
// a cluster-wide counter behind the same GatewayCapacity port.
import type { GatewayCapacity } from "../routing/capacity.js";
import type { PstnGateway } from "../routing/gateways.js";
import type { Logger } from "../util/logger.js";
import type { CallEvent, CallEventBus } from "./events.js";

/** routing.md: at 90% of maxConcurrentSessions an alert is raised. */
export const CAPACITY_ALERT_RATIO = 0.9;

export class InProcessGatewayCapacity implements GatewayCapacity {
  private readonly inUse = new Map<string, number>();
  /** callId → gateway FQDN → attempts holding it. */
  private readonly held = new Map<string, Map<string, number>>();
  private readonly limits = new Map<string, number>();
  private readonly alerting = new Set<string>();

  constructor(
    gateways: readonly PstnGateway[],
    private readonly logger: Logger,
  ) {
    for (const g of gateways) {
      if (g.maxConcurrentSessions !== undefined) this.limits.set(g.fqdn, g.maxConcurrentSessions);
    }
  }

  /** Reload: the limits of the new gateway list; calls in progress keep being counted. */
  setLimits(gateways: readonly PstnGateway[]): void {
    this.limits.clear();
    for (const g of gateways) {
      if (g.maxConcurrentSessions !== undefined) this.limits.set(g.fqdn, g.maxConcurrentSessions);
    }
  }

  attach(bus: CallEventBus): () => void {
    return bus.subscribe((e) => this.onEvent(e));
  }

  callsInProgress(fqdn: string): number {
    return this.inUse.get(fqdn) ?? 0;
  }

  atCapacity(gateways: readonly PstnGateway[]): ReadonlySet<string> {
    const out = new Set<string>();
    for (const g of gateways) {
      const limit = this.limits.get(g.fqdn);
      if (limit !== undefined && this.callsInProgress(g.fqdn) >= limit) out.add(g.fqdn);
    }
    return out;
  }

  onEvent(event: CallEvent): void {
    switch (event.type) {
      case "attempt-sent":
        if (event.target.gateway !== null) this.acquire(event.callId, event.target.gateway);
        break;
      case "attempt-failed":
        if (event.target.gateway !== null) this.release(event.callId, event.target.gateway);
        break;
      case "ended":
      case "rejected":
      case "cancelled":
      case "transaction-timeout":
        this.releaseCall(event.callId);
        break;
      default:
        break;
    }
  }

  private acquire(callId: string, fqdn: string): void {
    let held = this.held.get(callId);
    if (held === undefined) {
      held = new Map();
      this.held.set(callId, held);
    }
    held.set(fqdn, (held.get(fqdn) ?? 0) + 1);
    this.adjust(fqdn, +1);
  }

  private release(callId: string, fqdn: string): void {
    const held = this.held.get(callId);
    const n = held?.get(fqdn) ?? 0;
    if (held === undefined || n === 0) return;
    if (n === 1) held.delete(fqdn);
    else held.set(fqdn, n - 1);
    if (held.size === 0) this.held.delete(callId);
    this.adjust(fqdn, -1);
  }

  private releaseCall(callId: string): void {
    const held = this.held.get(callId);
    if (held === undefined) return;
    this.held.delete(callId);
    for (const [fqdn, n] of held) this.adjust(fqdn, -n);
  }

  private adjust(fqdn: string, delta: number): void {
    const n = Math.max(0, (this.inUse.get(fqdn) ?? 0) + delta);
    if (n === 0) this.inUse.delete(fqdn);
    else this.inUse.set(fqdn, n);
    const limit = this.limits.get(fqdn);
    if (limit === undefined) return;
    const high = n >= CAPACITY_ALERT_RATIO * limit;
    if (high && !this.alerting.has(fqdn)) {
      this.alerting.add(fqdn);
      this.logger.warn(
        { gateway: fqdn, callsInProgress: n, maxConcurrentSessions: limit },
        "gateway near capacity",
      );
    } else if (!high && this.alerting.has(fqdn)) {
      this.alerting.delete(fqdn);
      this.logger.info(
        { gateway: fqdn, callsInProgress: n, maxConcurrentSessions: limit },
        "gateway below capacity alert",
      );
    }
  }
}
