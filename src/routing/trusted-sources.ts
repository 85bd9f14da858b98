// The sources the SIP edge never rate-limits, bans or refuses connections from (issue #15): the
// operator's `sip.flood.allow`, every gateway's addresses and every tenant's
// trustedClientNetworks. A gateway's addresses are the ones that identify it when it calls in
// (gateways.ts): its configured `address`, or what its FQDN resolves to (RFC 3263, the DNS book
// of src/routing/dns/). Gateways and tenants are those of the routing in use -- the file's, or
// with Redis the routing version this instance routes on, whose instance file holds none -- so
// the set is rebuilt when a DNS answer, a routing version or a reload changes any part of it.
import type { DialgateConfig } from "../config/schema.js";
import { NetworkSet } from "./ip-networks.js";

export type TrustedSources = (address: string) => boolean;

export interface TrustedSourceParts {
  /** `sip.flood.allow` of the instance's file. */
  readonly allow: readonly string[];
  /** The routing objects in use (their gateways' addresses, their tenants' trusted networks). */
  readonly routing: Pick<DialgateConfig, "gateways" | "tenants">;
  /** Addresses the gateways without `address` resolve to. */
  readonly resolved: readonly string[];
}

/** Every network and address of the parts, each once, in a stable order. */
function networksOf(parts: TrustedSourceParts): string[] {
  return [
    ...new Set([
      ...parts.allow,
      ...parts.routing.gateways.flatMap((g) => (g.address === undefined ? [] : [g.address])),
      ...parts.resolved,
      ...parts.routing.tenants.flatMap((t) => t.trustedClientNetworks),
    ]),
  ].sort();
}

/** The allow list of fixed parts (no DNS). */
export function trustedSourcesOf(parts: TrustedSourceParts): TrustedSources {
  const set = new NetworkSet(networksOf(parts));
  return (address) => set.has(address);
}

/** The allow list as it changes: `current` is always the latest; listeners hear of real changes. */
export class LiveTrustedSources {
  private parts: TrustedSourceParts;
  private networks: string;
  private trusted: TrustedSources;
  private readonly listeners: ((trusted: TrustedSources) => void)[] = [];

  constructor(parts: TrustedSourceParts) {
    this.parts = parts;
    this.networks = networksOf(parts).join(" ");
    this.trusted = trustedSourcesOf(parts);
  }

  get current(): TrustedSources {
    return this.trusted;
  }

  /** Told the new allow list each time it changes (the flood guard re-judges known sources). */
  onChange(listener: (trusted: TrustedSources) => void): void {
    this.listeners.push(listener);
  }

  update(change: Partial<TrustedSourceParts>): void {
    this.parts = { ...this.parts, ...change };
    const networks = networksOf(this.parts).join(" ");
    if (networks === this.networks) return;
    this.networks = networks;
    this.trusted = trustedSourcesOf(this.parts);
    for (const l of this.listeners) l(this.trusted);
  }
}
