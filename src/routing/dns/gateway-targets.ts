// Gateways configured without `address` (issue #15): their RFC 3263 targets, resolved in the
// background and re-resolved when the TTL runs out, so a call normally never waits on DNS. A
// lookup that fails keeps the last known targets (stale beats refusing a real gateway) and is
// retried soon. A call for a gateway not resolved yet (just started, just pushed) asks now,
// through the same configured servers, rather than leaving the FQDN to the system resolver.
// The same addresses identify the gateway when it calls in (routing.md "an address its FQDN
// resolves to"), which makes this a GatewayAddressBook too, and are never flood-limited.

import type { RandomSource } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { GatewayAddressBook, PstnGateway } from "../gateways.js";
import { canonicalAddress } from "../ip-networks.js";
import type { DnsClient } from "./dns-client.js";
import { orderTargets, type ResolvedTarget, resolveSipServer, type SipService } from "./sip-resolver.js";

/** A TTL of 0 (or a tiny one) must not turn into a query loop; a huge one must not pin stale data. */
const MIN_TTL_SECONDS = 1;
const MAX_TTL_SECONDS = 3_600;
const RETRY_SECONDS = 10;

export class DnsGatewayTargets implements GatewayAddressBook {
  /** SRV records with their addresses, per gateway FQDN (lower case), as last resolved. */
  private readonly resolved = new Map<string, readonly SipService[]>();
  private readonly byFqdn = new Map<string, PstnGateway>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Lookups under way: a call that needs one waits for it instead of asking again. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Gateways asked at least once: after a failure, calls no longer wait (the retry timer asks). */
  private readonly asked = new Set<string>();
  private readonly changeListeners: (() => void)[] = [];
  private stopped = false;

  constructor(
    gateways: readonly PstnGateway[],
    private readonly dns: DnsClient,
    private readonly random: RandomSource,
    private readonly logger: Logger,
  ) {
    for (const g of gateways) this.byFqdn.set(g.fqdn.toLowerCase(), g);
  }

  /** Gateways this book resolves: those without a configured address. */
  static needed(gateways: readonly PstnGateway[]): PstnGateway[] {
    return gateways.filter((g) => g.address === undefined);
  }

  /** Resolves every gateway once (failures are logged, not thrown), then keeps them fresh. */
  async start(): Promise<void> {
    await Promise.all([...this.byFqdn.keys()].map((fqdn) => this.lookUp(fqdn)));
  }

  /** Reload: start from what the previous book knew (refreshed at once by `start`). */
  adopt(previous: DnsGatewayTargets): void {
    for (const fqdn of this.byFqdn.keys()) {
      const known = previous.resolved.get(fqdn);
      if (known !== undefined) this.resolved.set(fqdn, known);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** Told whenever the addresses of a gateway change (the flood allow list follows them). */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /** Whether `fqdn` is a gateway this book resolves. */
  resolves(fqdn: string): boolean {
    return this.byFqdn.has(fqdn.toLowerCase());
  }

  /**
   * The targets of one call in the order to try them (RFC 2782's weighted order drawn now, for
   * this call), or undefined while none is known.
   */
  targetsOf(fqdn: string): readonly ResolvedTarget[] | undefined {
    const services = this.resolved.get(fqdn.toLowerCase());
    return services === undefined || services.length === 0 ? undefined : orderTargets(services, this.random);
  }

  /**
   * A call's targets, looked up now if the gateway was never asked for yet (concurrent calls
   * share the lookup); undefined when DNS has none.
   */
  async targetsNow(fqdn: string): Promise<readonly ResolvedTarget[] | undefined> {
    const key = fqdn.toLowerCase();
    if (!this.resolved.has(key) && !this.asked.has(key) && this.byFqdn.has(key)) await this.lookUp(key);
    return this.targetsOf(key);
  }

  addressesOf(gateway: PstnGateway): readonly string[] {
    const configured = gateway.address === undefined ? [] : [canonicalAddress(gateway.address)];
    return [...configured, ...this.foundAddresses(gateway.fqdn.toLowerCase())];
  }

  /** Every address found for any gateway (the sources to trust). */
  allAddresses(): string[] {
    return [...this.resolved.keys()].flatMap((fqdn) => this.foundAddresses(fqdn));
  }

  private foundAddresses(fqdn: string): string[] {
    return (this.resolved.get(fqdn) ?? []).flatMap((s) => s.addresses.map(canonicalAddress));
  }

  private lookUp(fqdn: string): Promise<void> {
    const running = this.inFlight.get(fqdn);
    if (running !== undefined) return running;
    const lookup = this.refresh(fqdn).finally(() => {
      this.inFlight.delete(fqdn);
      this.asked.add(fqdn);
    });
    this.inFlight.set(fqdn, lookup);
    return lookup;
  }

  private async refresh(fqdn: string): Promise<void> {
    const g = this.byFqdn.get(fqdn);
    if (g === undefined) return;
    const timer = this.timers.get(fqdn);
    if (timer !== undefined) clearTimeout(timer);
    let nextSeconds = RETRY_SECONDS;
    try {
      const r = await resolveSipServer(this.dns, g.fqdn, g.transport, g.sipSignalingPort);
      if (r.services.length > 0) {
        const before = this.foundAddresses(fqdn).join(" ");
        this.resolved.set(fqdn, r.services);
        nextSeconds = Math.min(MAX_TTL_SECONDS, Math.max(MIN_TTL_SECONDS, r.ttlSeconds));
        this.logger.debug({ gateway: g.fqdn, services: r.services, ttl: r.ttlSeconds }, "gateway resolved");
        if (this.foundAddresses(fqdn).join(" ") !== before) for (const l of this.changeListeners) l();
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
    const next = setTimeout(() => void this.lookUp(fqdn), nextSeconds * 1000);
    next.unref();
    this.timers.set(fqdn, next);
  }
}
