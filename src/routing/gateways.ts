// PSTN gateways (SBCs and SIP trunks) and how a request is recognised as coming from one
// (routing.md "Who is calling"): the source address must be one of the gateway's addresses
// and the Contact host must be the gateway FQDN, or a *derived trunk* — a one-label subdomain
// of a carrier trunk FQDN that inherits every setting (and the health) of that trunk.
import type { DialgateConfig, PstnGatewayConfig } from "../config/schema.js";
import { canonicalAddress } from "./ip-networks.js";

export type PstnGateway = PstnGatewayConfig;

/** Where a gateway may send from: its configured `address`, or what its FQDN resolves to. */
export interface GatewayAddressBook {
  addressesOf(gateway: PstnGateway): readonly string[];
}

/** The configured `address` only (the embedded default; a DNS-refreshing book can replace it). */
export const configuredAddresses: GatewayAddressBook = {
  addressesOf: (g) => (g.address === undefined ? [] : [canonicalAddress(g.address)]),
};

export interface IdentifiedGateway {
  /** The configured gateway (for a derived trunk: its carrier trunk) whose settings apply. */
  readonly gateway: PstnGateway;
  /** The FQDN the gateway presented (a derived trunk's own subdomain, or `gateway.fqdn`). */
  readonly fqdn: string;
  readonly derived: boolean;
}

export class GatewayDirectory {
  private readonly byFqdn = new Map<string, PstnGateway>();

  constructor(
    readonly all: readonly PstnGateway[],
    private readonly addresses: GatewayAddressBook = configuredAddresses,
  ) {
    for (const g of all) this.byFqdn.set(g.fqdn.toLowerCase(), g);
  }

  static fromConfig(config: DialgateConfig, addresses?: GatewayAddressBook): GatewayDirectory {
    return new GatewayDirectory(config.gateways, addresses);
  }

  get(fqdn: string): PstnGateway | undefined {
    return this.byFqdn.get(normalizeHost(fqdn));
  }

  /** The gateway an FQDN names: itself, or the carrier trunk one label up (derived trunk). */
  resolveFqdn(host: string): IdentifiedGateway | undefined {
    const fqdn = normalizeHost(host);
    const direct = this.byFqdn.get(fqdn);
    if (direct !== undefined) return { gateway: direct, fqdn, derived: false };
    const dot = fqdn.indexOf(".");
    if (dot <= 0) return undefined;
    const parent = this.byFqdn.get(fqdn.slice(dot + 1));
    // Only a carrier's trunk spawns derived trunks: a customer's own SBC FQDN does not make
    // every name under it a gateway.
    if (parent === undefined || parent.carrier === undefined) return undefined;
    return { gateway: parent, fqdn, derived: true };
  }

  /** Whether `address` is one the gateway may send from. */
  sendsFrom(gateway: PstnGateway, address: string): boolean {
    const a = canonicalAddress(address);
    return this.addresses.addressesOf(gateway).some((x) => canonicalAddress(x) === a);
  }

  /** Gateways that may send from this address (OPTIONS without a usable host). */
  atAddress(address: string): PstnGateway[] {
    return this.all.filter((g) => this.sendsFrom(g, address));
  }

  /**
   * Identify a gateway by the host it presents and the address it sends from; both must agree.
   * Over mutual TLS a verified certificate naming the FQDN vouches for it as well as its address
   * does (RFC 5922 §7.1), so a gateway behind changing addresses is still recognised.
   */
  identify(
    host: string,
    sourceAddress: string,
    certificateNames: readonly string[] = [],
  ): IdentifiedGateway | undefined {
    const named = this.resolveFqdn(host);
    if (named === undefined) return undefined;
    if (this.sendsFrom(named.gateway, sourceAddress)) return named;
    const certified = certificateNames.some((n) => {
      const name = normalizeHost(n);
      return name === named.fqdn || name === named.gateway.fqdn;
    });
    return certified ? named : undefined;
  }
}

export function normalizeHost(host: string): string {
  const h = host.toLowerCase();
  return h.endsWith(".") ? h.slice(0, -1) : h;
}
