// A tiny authoritative DNS server for tests (UDP on a free loopback port, dns-packet for the wire
// format): answers from a zone the test can change at any time, and counts every question so a
// test can wait for a re-resolution (TTL honoured) instead of sleeping.
import { createSocket, type Socket } from "node:dgram";
import { type Answer, decode, encode } from "dns-packet";

export type ZoneRecord = Answer & { readonly name: string };

export interface TestDnsServer {
  readonly port: number;
  /** Every question asked so far, as `TYPE name`. */
  readonly questions: string[];
  /** Replaces the zone (the next answers use it). */
  setZone(records: readonly ZoneRecord[]): void;
  close(): Promise<void>;
}

export async function startDnsServer(records: readonly ZoneRecord[]): Promise<TestDnsServer> {
  let zone = [...records];
  const questions: string[] = [];
  const socket: Socket = createSocket("udp4");
  socket.on("message", (data, rinfo) => {
    let query: ReturnType<typeof decode>;
    try {
      query = decode(data);
    } catch {
      return;
    }
    const q = query.questions?.[0];
    if (q === undefined) return;
    questions.push(`${q.type} ${q.name}`);
    const answers = zone.filter((r) => r.name.toLowerCase() === q.name.toLowerCase() && r.type === q.type);
    const known = zone.some((r) => r.name.toLowerCase() === q.name.toLowerCase());
    const reply = encode({
      type: "response",
      id: query.id ?? 0,
      flags: (1 << 10) | (known ? 0 : 3), // AA; NXDOMAIN for a name the zone does not have
      questions: [q],
      answers,
    });
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  return {
    port: socket.address().port,
    questions,
    setZone: (r) => {
      zone = [...r];
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
