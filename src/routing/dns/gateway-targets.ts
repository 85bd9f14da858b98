// Gateways configured without `address` (issue #15): their RFC 3263 targets, resolved in the
// background and re-resolved when the TTL runs out, so a call never waits on DNS. A lookup that
// fails keeps the last known targets (stale beats refusing a real gateway) and is retried soon.
// The same addresses identify the gateway when it calls in (routing.md "an address its FQDN
// resolves to"), which makes this a GatewayAddressBook too.

import type { RandomSource } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { GatewayAddressBook, PstnGateway } from "../gateways.js";
import { canonicalAddress } from "../ip-networks.js";
import type { DnsClient } from "./dns-client.js";
import { type ResolvedTarget, resolveSipServer } from "./sip-resolver.js";

/** A TTL of 0 (or a tiny one) must not turn into a query loop; a huge one must not pin stale data. */
const MIN_TTL_SECONDS = 1;
const MAX_TTL_SECONDS = 3_600;
const RETRY_SECONDS = 10;

export class DnsGatewayTargets implements GatewayAddressBook {
  private readonly resolved = new Map<string, readonly ResolvedTarget[]>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private stopped = false;

  constructor(
    private readonly gateways: readonly PstnGateway[],
    private readonly dns: DnsClient,
    private readonly random: RandomSource,
    private readonly logger: Logger,
  ) {}

  /** Gateways this book resolves: those without a configured address. */
  static needed(gateways: readonly PstnGateway[]): PstnGateway[] {
    return gateways.filter((g) => g.address === undefined);
  }

  /** Resolves every gateway once (failures are logged, not thrown), then keeps them fresh. */
  async start(): Promise<void> {
    await Promise.all(this.gateways.map((g) => this.refresh(g)));
  }

  /** Reload: start from what the previous book knew (refreshed at once by `start`). */
  adopt(previous: DnsGatewayTargets): void {
    for (const g of this.gateways) {
      const known = previous.resolved.get(g.fqdn);
      if (known !== undefined) this.resolved.set(g.fqdn, known);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** The targets in the order to try them, or undefined while none is known. */
  targetsOf(fqdn: string): readonly ResolvedTarget[] | undefined {
    const t = this.resolved.get(fqdn.toLowerCase());
    return t === undefined || t.length === 0 ? undefined : t;
  }

  addressesOf(gateway: PstnGateway): readonly string[] {
    const configured = gateway.address === undefined ? [] : [canonicalAddress(gateway.address)];
    const found = (this.resolved.get(gateway.fqdn) ?? []).map((t) => canonicalAddress(t.address));
    return [...configured, ...found];
  }

  private async refresh(g: PstnGateway): Promise<void> {
    let nextSeconds = RETRY_SECONDS;
    try {
      const r = await resolveSipServer(this.dns, g.fqdn, g.transport, g.sipSignalingPort, this.random);
      if (r.targets.length > 0) {
        this.resolved.set(g.fqdn, r.targets);
        nextSeconds = Math.min(MAX_TTL_SECONDS, Math.max(MIN_TTL_SECONDS, r.ttlSeconds));
        this.logger.debug({ gateway: g.fqdn, targets: r.targets, ttl: r.ttlSeconds }, "gateway resolved");
      } else {
        this.logger.warn(
          { gateway: g.fqdn },
          "gateway FQDN has no SIP targets in DNS; keeping the last known",
        );
      }
    } catch (err) {
      this.logger.warn(
        { gateway: g.fqdn, err: (err as Error).message },
        "gateway DNS lookup failed; keeping the last known",
      );
    }
    if (this.stopped) return;
    const timer = setTimeout(() => void this.refresh(g), nextSeconds * 1000);
    timer.unref();
    this.timers.set(g.fqdn, timer);
  }
}
