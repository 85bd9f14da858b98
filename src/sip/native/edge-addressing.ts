// Who the edge is on the wire: the hosts and ports that count as "us" (§16.4 Route
// preprocessing, §18.1.2 response matching), the Via sent-by and Record-Route values it puts in
// forwarded requests, and where responses go (§18.2.2 with RFC 3581).
import type { SipUri, ViaHop } from "../index.js";
import type { Destination, ListenAddress, MessageSource, NativeTransport } from "./transport-types.js";

export class LocalIdentity {
  private ourHosts = new Set<string>();
  private readonly ourPorts = new Set<number>();
  private readonly recordRoutes = new Map<string, string>();

  constructor(private readonly recordRouteHost: string) {}

  /** Learns the bound listen addresses (wildcard hosts count only through the Record-Route host). */
  learn(bound: readonly ListenAddress[]): void {
    this.ourHosts = new Set([normalizeHost(this.recordRouteHost)]);
    for (const b of bound) {
      if (b.host !== "0.0.0.0" && b.host !== "::") this.ourHosts.add(normalizeHost(b.host));
      this.ourPorts.add(b.port);
    }
  }

  /** A sip: or sips: URI naming us; a sips: URI without a port means 5061 (§19.1.2). */
  isOurUri(uri: SipUri): boolean {
    return this.isOurs(uri.host, uri.port, uri.scheme === "sips" ? "tls" : "udp");
  }

  /** A Via sent-by naming us; a TLS Via without a port means 5061 (§18.2.2). */
  isOurVia(hop: ViaHop): boolean {
    return this.isOurs(hop.host, hop.port, hop.transport === "TLS" ? "tls" : "udp");
  }

  private isOurs(host: string, port: number | null, transport: NativeTransport): boolean {
    return this.ourHosts.has(normalizeHost(host)) && this.ourPorts.has(port ?? defaultPort(transport));
  }

  sentByFor(local: ListenAddress): string {
    const host = local.host === "0.0.0.0" || local.host === "::" ? this.recordRouteHost : local.host;
    return `${hostForUri(host)}:${local.port}`;
  }

  /**
   * The Record-Route value for a local listen address (built once per address). `sips`: the
   * request's Request-URI or top Route is a SIPS URI, so the Record-Route must be one too
   * (RFC 3261 §16.6 step 4); a sips: URI needs no transport parameter. For a sip: URI over TLS
   * `transport=tls` stays: RFC 5630 deprecates it, yet it is the only way a sip: URI says "TLS".
   */
  recordRouteFor(local: ListenAddress, sips = false): string {
    const secure = sips && local.transport === "tls";
    const key = `${local.transport}:${local.port}:${secure ? "s" : ""}`;
    let rr = this.recordRoutes.get(key);
    if (rr === undefined) {
      const hostPort = `${hostForUri(this.recordRouteHost)}:${local.port}`;
      rr = secure
        ? `<sips:${hostPort};lr>`
        : `<sip:${hostPort}${local.transport === "udp" ? "" : `;transport=${local.transport}`};lr>`;
      this.recordRoutes.set(key, rr);
    }
    return rr;
  }

  /** A From URI for requests the edge originates itself. */
  get uriHost(): string {
    return hostForUri(this.recordRouteHost);
  }
}

/**
 * §18.2.2 with RFC 3581: responses go to the source address, to the source port when rport was
 * asked for. Over TCP the response goes back on the request's connection; this destination is
 * only used when that connection is gone: a new one to the source address and sent-by port.
 */
export function responseDestination(via: ViaHop, source: MessageSource): Destination {
  if (source.transport !== "udp")
    return {
      host: source.address,
      port: via.port ?? defaultPort(source.transport),
      transport: source.transport,
    };
  return { host: source.address, port: via.hasRport ? source.port : (via.port ?? 5060), transport: "udp" };
}

/** §18.2.2, §19.1.2: a sent-by or URI without a port means 5061 over TLS, 5060 otherwise. */
export function defaultPort(transport: NativeTransport): number {
  return transport === "tls" ? 5061 : 5060;
}

export function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

export function normalizeHost(host: string): string {
  return stripBrackets(host).toLowerCase();
}

/** IPv6 literals go in brackets in URIs and Via sent-by (§19.1.1, §25.1). */
export function hostForUri(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
