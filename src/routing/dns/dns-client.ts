// A small DNS stub client for RFC 3263 lookups: Node's resolver reports no TTL for SRV or NAPTR
// records, and TTLs decide when a gateway is looked up again. dns-packet does the wire format;
// servers come from `sip.dnsServers`, else the system's (`/etc/resolv.conf`, as Node reads it).
// Each server is tried in turn until one answers. A question goes over UDP (RFC 1035 §4.2.1);
// an answer with the TC bit is only the part that fitted in the datagram, so the question is
// asked again over TCP (RFC 1035 §4.2.2, RFC 7766 §5) rather than taking it as complete: a large
// SRV or NAPTR set would otherwise silently lose gateways' targets.
import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { getServers } from "node:dns";
import { connect, isIPv6 } from "node:net";
import {
  type Answer,
  decode,
  encode,
  type Packet,
  RECURSION_DESIRED,
  streamDecode,
  streamEncode,
} from "dns-packet";

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

/** TC: the answer was cut to fit the datagram (RFC 1035 §4.1.1). */
const TRUNCATED = 1 << 9;

export class DnsStubClient implements DnsClient {
  constructor(
    private readonly servers: readonly DnsServer[] = getServers().map(parseDnsServer),
    private readonly timeoutMs = 2_000,
  ) {}

  async query(name: string, type: DnsRecordType): Promise<DnsAnswer> {
    let lastError: Error = new Error("no DNS server configured");
    for (const server of this.servers) {
      try {
        const overUdp = await this.askOverUdp(server, name, type);
        if (((overUdp.flags ?? 0) & TRUNCATED) === 0) return answerOf(overUdp, name, type);
        return answerOf(await this.askOverTcp(server, name, type), name, type);
      } catch (err) {
        lastError = err as Error;
      }
    }
    throw lastError;
  }

  private askOverUdp(server: DnsServer, name: string, type: DnsRecordType): Promise<Packet> {
    const id = queryId();
    const socket = createSocket(isIPv6(server.host) ? "udp6" : "udp4");
    return new Promise<Packet>((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        socket.close();
        fn();
      };
      const timer = setTimeout(() => done(() => reject(noAnswer(server, name, type))), this.timeoutMs);
      socket.on("error", (err) => done(() => reject(err)));
      socket.on("message", (data, rinfo) => {
        // Only the server we asked, and only the answer to our question (RFC 5452 §4.3).
        if (rinfo.port !== server.port) return;
        const packet = responseTo(data, id, decode);
        if (packet !== null) done(() => resolve(packet));
      });
      socket.send(question(id, name, type, encode), server.port, server.host);
    });
  }

  /** RFC 1035 §4.2.2: the same question on a TCP connection, each message behind its 2-byte length. */
  private askOverTcp(server: DnsServer, name: string, type: DnsRecordType): Promise<Packet> {
    const id = queryId();
    const socket = connect({ host: server.host, port: server.port });
    return new Promise<Packet>((resolve, reject) => {
      let received = Buffer.alloc(0);
      const done = (fn: () => void) => {
        clearTimeout(timer);
        socket.destroy();
        fn();
      };
      const timer = setTimeout(
        () => done(() => reject(noAnswer(server, name, type, " over TCP"))),
        this.timeoutMs,
      );
      socket.on("error", (err) => done(() => reject(err)));
      socket.on("close", () => done(() => reject(noAnswer(server, name, type, " over TCP"))));
      socket.on("data", (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
          const length = 2 + received.readUInt16BE(0);
          const message = received.subarray(0, length);
          received = received.subarray(length);
          const packet = responseTo(message, id, streamDecode);
          if (packet !== null) {
            done(() => resolve(packet));
            return;
          }
        }
      });
      socket.write(question(id, name, type, streamEncode));
    });
  }
}

/** A random id (RFC 5452 §9.2): an off-path attacker must not guess it. */
function queryId(): number {
  return randomInt(1, 0xffff);
}

function question(id: number, name: string, type: DnsRecordType, encoder: (p: Packet) => Buffer): Buffer {
  return encoder({ type: "query", id, flags: RECURSION_DESIRED, questions: [{ type, name, class: "IN" }] });
}

/** The decoded response with our id, or null for anything else (garbage, another id, a query). */
function responseTo(data: Buffer, id: number, decoder: (b: Buffer) => Packet): Packet | null {
  let packet: Packet;
  try {
    packet = decoder(data);
  } catch {
    return null;
  }
  return packet.id === id && packet.type === "response" ? packet : null;
}

function answerOf(packet: Packet, name: string, type: DnsRecordType): DnsAnswer {
  const rcode = (packet as { rcode?: string }).rcode ?? "NOERROR";
  if (rcode !== "NOERROR" && rcode !== "NXDOMAIN") throw new Error(`DNS ${type} ${name}: ${rcode}`);
  return { answers: packet.answers ?? [], rcode };
}

function noAnswer(server: DnsServer, name: string, type: DnsRecordType, how = ""): Error {
  return new Error(`DNS ${type} ${name}: no answer from ${server.host}:${server.port}${how}`);
}
