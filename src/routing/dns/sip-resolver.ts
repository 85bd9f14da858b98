// Locating a SIP server (RFC 3263 §4) for a gateway configured by FQDN only: NAPTR picks the
// SRV name for the gateway's transport (§4.1), SRV gives targets in priority order with weighted
// choice among equals (RFC 2782), A/AAAA give their addresses (§4.2); without NAPTR the SRV name
// is the transport's default (`_sips._tcp`, `_sip._tcp`, `_sip._udp`), without SRV the FQDN's own
// A/AAAA records with the configured port. The result is valid for the smallest TTL used.
// The result keeps the SRV records (each with its addresses), not one order of them: RFC 2782's
// weighted choice is drawn again for every call (`orderTargets`), or every call until the TTL
// ends would go to the one target a single draw put first (RFC 3263 §4.4 spreads load per request).
//
// Deviation, on purpose: the gateway's configured `sipSignalingPort` is always present (it has a
// default), so §4.2's "explicit port: no SRV" would never use SRV; dialgate looks SRV up anyway,
// as cloud SBC FQDNs publish it, and keeps the configured port in the Request-URI (routing.md).
import type { Answer, NaptrData, SrvData } from "dns-packet";
import type { RandomSource } from "../../util/clock.js";
import type { SipTransport } from "../decision.js";
import type { DnsClient } from "./dns-client.js";

export interface ResolvedTarget {
  readonly address: string;
  readonly port: number;
}

/** One SRV record with the addresses of its target (or the FQDN's own addresses, without SRV). */
export interface SipService {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly addresses: readonly string[];
}

export interface Resolution {
  /** In the order DNS gave them; `orderTargets` puts them in the order to try for one call. */
  readonly services: readonly SipService[];
  /** Seconds the answer may be cached (the smallest TTL of the records it came from). */
  readonly ttlSeconds: number;
}

const NAPTR_SERVICE: Record<SipTransport, string> = { udp: "SIP+D2U", tcp: "SIP+D2T", tls: "SIPS+D2T" };
const SRV_PREFIX: Record<SipTransport, string> = { udp: "_sip._udp", tcp: "_sip._tcp", tls: "_sips._tcp" };

interface TypedRecord<D> {
  readonly ttl: number;
  readonly data: D;
}

interface RecordData {
  NAPTR: NaptrData;
  SRV: SrvData;
  A: string;
  AAAA: string;
}

function records<T extends keyof RecordData>(
  answers: readonly Answer[],
  type: T,
): TypedRecord<RecordData[T]>[] {
  return answers
    .filter((a) => a.type === type)
    .map((a) => {
      const r = a as unknown as { ttl?: number; data: RecordData[T] };
      return { ttl: r.ttl ?? 0, data: r.data };
    });
}

export async function resolveSipServer(
  dns: DnsClient,
  fqdn: string,
  transport: SipTransport,
  port: number,
): Promise<Resolution> {
  const ttls: number[] = [];
  // §4.1: NAPTR records with the "s" flag for our transport name the SRV record set.
  let srvName = `${SRV_PREFIX[transport]}.${fqdn}`;
  const naptr = records((await dns.query(fqdn, "NAPTR")).answers, "NAPTR")
    .filter((r) => {
      const d = r.data;
      return d.flags.toLowerCase() === "s" && d.services.toUpperCase() === NAPTR_SERVICE[transport];
    })
    .sort((a, b) => a.data.order - b.data.order || a.data.preference - b.data.preference);
  const chosen = naptr[0];
  if (chosen !== undefined) {
    srvName = chosen.data.replacement;
    ttls.push(chosen.ttl);
  }

  const srv = records((await dns.query(srvName, "SRV")).answers, "SRV");
  const services: SipService[] = [];
  if (srv.length > 0) {
    for (const r of srv) ttls.push(r.ttl);
    for (const { data } of srv) {
      if (data.target === ".") continue; // RFC 2782: "." means the service is not offered
      const addresses = await addressesOf(dns, data.target, ttls);
      if (addresses.length > 0)
        services.push({ priority: data.priority ?? 0, weight: data.weight ?? 0, port: data.port, addresses });
    }
  } else {
    const addresses = await addressesOf(dns, fqdn, ttls);
    if (addresses.length > 0) services.push({ priority: 0, weight: 0, port, addresses });
  }
  return { services, ttlSeconds: ttls.length === 0 ? 0 : Math.min(...ttls) };
}

/** The targets of one call: the services in RFC 2782 order (a fresh weighted draw), then their addresses. */
export function orderTargets(services: readonly SipService[], random: RandomSource): ResolvedTarget[] {
  return orderSrv(services, random).flatMap((s) => s.addresses.map((address) => ({ address, port: s.port })));
}

async function addressesOf(dns: DnsClient, host: string, ttls: number[]): Promise<string[]> {
  const out: string[] = [];
  for (const type of ["A", "AAAA"] as const) {
    for (const r of records((await dns.query(host, type)).answers, type)) {
      ttls.push(r.ttl);
      out.push(r.data);
    }
  }
  return out;
}

/**
 * RFC 2782: ascending priority; within one priority, repeatedly pick a record with probability
 * proportional to its weight (weight-0 records placed first get a small chance too).
 */
export function orderSrv<R extends Pick<SrvData, "priority" | "weight">>(
  records: readonly R[],
  random: RandomSource,
): R[] {
  const byPriority = new Map<number, R[]>();
  for (const r of records) {
    const p = r.priority ?? 0;
    byPriority.set(p, [...(byPriority.get(p) ?? []), r]);
  }
  const out: R[] = [];
  for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
    // Weight-0 records first, as RFC 2782 asks before the running sums are computed.
    const left = [...byPriority.get(p)!].sort((a, b) => (a.weight ?? 0) - (b.weight ?? 0));
    while (left.length > 0) {
      const total = left.reduce((s, r) => s + (r.weight ?? 0), 0);
      const pick = Math.floor(random() * (total + 1));
      let sum = 0;
      let index = left.length - 1;
      for (let i = 0; i < left.length; i++) {
        sum += left[i]!.weight ?? 0;
        if (sum >= pick) {
          index = i;
          break;
        }
      }
      out.push(...left.splice(index, 1));
    }
  }
  return out;
}
