// A tiny authoritative DNS server for tests (UDP and TCP on the same free loopback port,
// dns-packet for the wire format): answers from a zone the test can change at any time, and
// counts every question so a test can wait for a re-resolution (TTL honoured) instead of
// sleeping. Options make it misbehave the ways real servers do: answers over UDP cut short with
// the TC bit (the full answer only over TCP), or answers held back for a while.
import { createSocket, type Socket } from "node:dgram";
import { createServer, type Server, type Socket as TcpSocket } from "node:net";
import { type Answer, decode, encode, type Packet, streamDecode, streamEncode } from "dns-packet";

export type ZoneRecord = Answer & { readonly name: string };

export interface DnsServerOptions {
  /** Over UDP, answer with the TC bit and no records (RFC 1035 §4.2.1): the client must use TCP. */
  readonly truncateUdp?: boolean;
  /** Hold every answer back this long (a slow resolver). */
  readonly answerDelayMs?: number;
}

export interface TestDnsServer {
  readonly port: number;
  /** Every question asked so far, as `TYPE name` (`TYPE name over TCP` for TCP). */
  readonly questions: string[];
  /** Replaces the zone (the next answers use it). */
  setZone(records: readonly ZoneRecord[]): void;
  close(): Promise<void>;
}

const AUTHORITATIVE = 1 << 10;
const TRUNCATED = 1 << 9;
const NXDOMAIN = 3;

export async function startDnsServer(
  records: readonly ZoneRecord[],
  options: DnsServerOptions = {},
): Promise<TestDnsServer> {
  let zone = [...records];
  const questions: string[] = [];
  const answer = (query: Packet, overTcp: boolean): Packet | null => {
    const q = query.questions?.[0];
    if (q === undefined) return null;
    questions.push(`${q.type} ${q.name}${overTcp ? " over TCP" : ""}`);
    const answers = zone.filter((r) => r.name.toLowerCase() === q.name.toLowerCase() && r.type === q.type);
    const known = zone.some((r) => r.name.toLowerCase() === q.name.toLowerCase());
    const truncated = !overTcp && options.truncateUdp === true;
    return {
      type: "response",
      id: query.id ?? 0,
      // AA; TC when cut short; NXDOMAIN for a name the zone does not have.
      flags: AUTHORITATIVE | (truncated ? TRUNCATED : 0) | (known ? 0 : NXDOMAIN),
      questions: [q],
      answers: truncated ? [] : answers,
    };
  };
  const later = (send: () => void) =>
    options.answerDelayMs === undefined ? send() : setTimeout(send, options.answerDelayMs).unref();

  const udpSocket = (): Socket => {
    const udp = createSocket("udp4");
    udp.on("message", (data, rinfo) => {
      let query: Packet;
      try {
        query = decode(data);
      } catch {
        return;
      }
      const reply = answer(query, false);
      if (reply !== null) later(() => udp.send(encode(reply), rinfo.port, rinfo.address));
    });
    return udp;
  };
  const connections = new Set<TcpSocket>();
  const tcp: Server = createServer((conn) => {
    connections.add(conn);
    conn.on("close", () => connections.delete(conn));
    conn.on("error", () => {});
    let buffered = Buffer.alloc(0);
    conn.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const length = 2 + buffered.readUInt16BE(0);
        const reply = answer(streamDecode(buffered.subarray(0, length)), true);
        buffered = buffered.subarray(length);
        if (reply !== null) later(() => conn.write(streamEncode(reply)));
      }
    });
  });
  const { socket, port } = await bindBoth(udpSocket, tcp);
  return {
    port,
    questions,
    setZone: (r) => {
      zone = [...r];
    },
    close: async () => {
      for (const c of connections) c.destroy();
      await Promise.all([
        new Promise<void>((resolve) => socket.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

/** A UDP port the OS picks, then TCP on the same number (another pair if that one is taken). */
async function bindBoth(udpSocket: () => Socket, tcp: Server): Promise<{ socket: Socket; port: number }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const socket = udpSocket();
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
    const port = socket.address().port;
    const bound = await new Promise<boolean>((resolve) => {
      const taken = () => resolve(false);
      tcp.once("error", taken);
      tcp.listen(port, "127.0.0.1", () => {
        tcp.off("error", taken);
        resolve(true);
      });
    });
    if (bound) return { socket, port };
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
  throw new Error("no loopback port free for both UDP and TCP");
}
