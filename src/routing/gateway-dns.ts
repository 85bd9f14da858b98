// Gateway addresses from DNS (routing.md: the source matches a gateway's `address` "or an
// address its FQDN resolves to"). The router must not wait on DNS while a call is waiting, so
// addresses are resolved in the background and read from memory; a failed lookup keeps the
// last known addresses (stale is better than refusing a real gateway).
import { lookup as dnsLookup } from "node:dns/promises";
import type { Logger } from "../util/logger.js";
import type { GatewayAddressBook, PstnGateway } from "./gateways.js";
import { canonicalAddress } from "./ip-networks.js";

export type HostLookup = (host: string) => Promise<readonly string[]>;

const systemLookup: HostLookup = async (host) => (await dnsLookup(host, { all: true })).map((a) => a.address);

export class ResolvingGatewayAddressBook implements GatewayAddressBook {
  private readonly resolved = new Map<string, readonly string[]>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly gateways: readonly PstnGateway[],
    private readonly logger: Logger,
    private readonly lookup: HostLookup = systemLookup,
  ) {}

  addressesOf(gateway: PstnGateway): readonly string[] {
    const configured = gateway.address === undefined ? [] : [canonicalAddress(gateway.address)];
    return [...configured, ...(this.resolved.get(gateway.fqdn) ?? [])];
  }

  async refresh(): Promise<void> {
    await Promise.all(
      this.gateways.map(async (g) => {
        try {
          const addresses = (await this.lookup(g.fqdn)).map(canonicalAddress);
          this.resolved.set(g.fqdn, addresses);
        } catch (err) {
          this.logger.debug({ gateway: g.fqdn, err: (err as Error).message }, "gateway FQDN did not resolve");
        }
      }),
    );
  }

  start(intervalMs: number): void {
    if (this.timer !== null) return;
    const tick = () => {
      void this.refresh();
    };
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
    tick();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
