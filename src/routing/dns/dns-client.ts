// A small DNS stub client over UDP (RFC 1035 §4.2.1) for RFC 3263 lookups: Node's resolver
// reports no TTL for SRV or NAPTR records, and TTLs decide when a gateway is looked up again.
// dns-packet does the wire format; servers come from `sip.dnsServers`, else the system's
// (`/etc/resolv.conf`, as Node reads it). Each server is tried in turn until one answers.
import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { getServers } from "node:dns";
import { isIPv6 } from "node:net";
import { type Answer, decode, encode, RECURSION_DESIRED } from "dns-packet";

export type DnsRecordType = "NAPTR" | "SRV" | "A" | "AAAA";

export interface DnsAnswer {
  readonly answers: readonly Answer[];
  /** NOERROR and NXDOMAIN are answers; anything else (SERVFAIL, REFUSED) is a failure. */
  readonly rcode: string;
}

export interface DnsClient {
  query(name: string, type: DnsRecordType): Promise<DnsAnswer>;
}

export interface DnsServer {
  readonly host: string;
  readonly port: number;
}

/** `127.0.0.1:5353`, `[::1]:53`, `10.0.0.2` → host and port. */
export function parseDnsServer(spec: string): DnsServer {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (v6) return { host: v6[1]!, port: Number(v6[2] ?? 53) };
  if (isIPv6(spec)) return { host: spec, port: 53 };
  const [host = spec, port] = spec.split(":");
  return { host, port: Number(port ?? 53) };
}

export class UdpDnsClient implements DnsClient {
  constructor(
    private readonly servers: readonly DnsServer[] = getServers().map(parseDnsServer),
    private readonly timeoutMs = 2_000,
  ) {}

  async query(name: string, type: DnsRecordType): Promise<DnsAnswer> {
    let lastError: Error = new Error("no DNS server configured");
    for (const server of this.servers) {
      try {
        return await this.ask(server, name, type);
      } catch (err) {
        lastError = err as Error;
      }
    }
    throw lastError;
  }

  private ask(server: DnsServer, name: string, type: DnsRecordType): Promise<DnsAnswer> {
    // A random id (RFC 5452 §9.2): an off-path attacker must not guess it.
    const id = randomInt(1, 0xffff);
    const message = encode({
      type: "query",
      id,
      flags: RECURSION_DESIRED,
      questions: [{ type, name, class: "IN" }],
    });
    const socket = createSocket(isIPv6(server.host) ? "udp6" : "udp4");
    return new Promise<DnsAnswer>((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        socket.close();
        fn();
      };
      const timer = setTimeout(
        () =>
          done(() => reject(new Error(`DNS ${type} ${name}: no answer from ${server.host}:${server.port}`))),
        this.timeoutMs,
      );
      socket.on("error", (err) => done(() => reject(err)));
      socket.on("message", (data, rinfo) => {
        // Only the server we asked, and only the answer to our question (RFC 5452 §4.3).
        if (rinfo.port !== server.port) return;
        let packet: ReturnType<typeof decode>;
        try {
          packet = decode(data);
        } catch {
          return;
        }
        if (packet.id !== id || packet.type !== "response") return;
        const rcode = (packet as { rcode?: string }).rcode ?? "NOERROR";
        if (rcode !== "NOERROR" && rcode !== "NXDOMAIN")
          done(() => reject(new Error(`DNS ${type} ${name}: ${rcode}`)));
        else done(() => resolve({ answers: packet.answers ?? [], rcode }));
      });
      socket.send(message, server.port, server.host);
    });
  }
}
