// A bare SIP client for bad-input tests: sends hand-written bytes over UDP or TCP and collects
// whatever comes back, parsed just enough to read status lines and headers.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect, type Socket } from "node:net";
import { waitFor } from "./free-port.js";

export interface RawResponse {
  readonly status: number;
  readonly reason: string;
  readonly text: string;
  header(name: string): string | undefined;
}

function parse(text: string): RawResponse | null {
  const m = /^SIP\/2\.0 (\d{3}) ?([^\r\n]*)/.exec(text);
  if (m === null) return null;
  const head = text.split("\r\n\r\n")[0] ?? "";
  const lines = head.split("\r\n").slice(1);
  return {
    status: Number(m[1]),
    reason: m[2] ?? "",
    text,
    header: (name) => {
      const l = lines.find((x) => x.toLowerCase().startsWith(`${name.toLowerCase()}:`));
      return l === undefined ? undefined : l.slice(l.indexOf(":") + 1).trim();
    },
  };
}

/** Splits a byte stream into SIP messages by Content-Length (RFC 3261 §18.3). */
export class SipStreamReader {
  private buffer = "";

  constructor(private readonly onMessage: (text: string) => void) {}

  push(chunk: Buffer): void {
    this.buffer += chunk.toString("latin1");
    for (;;) {
      this.buffer = this.buffer.replace(/^(\r\n)+/, "");
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const len = Number(/\r\n(?:content-length|l):\s*(\d+)/i.exec(this.buffer.slice(0, end))?.[1] ?? 0);
      if (this.buffer.length < end + 4 + len) return;
      const text = this.buffer.slice(0, end + 4 + len);
      this.buffer = this.buffer.slice(end + 4 + len);
      this.onMessage(text);
    }
  }
}

export class RawSipClient {
  readonly received: RawResponse[] = [];
  private udp: UdpSocket | null = null;
  private tcp: Socket | null = null;
  port = 0;

  private constructor(
    readonly transport: "udp" | "tcp",
    private readonly remote: { host: string; port: number },
  ) {}

  static async open(transport: "udp" | "tcp", remote: { host: string; port: number }): Promise<RawSipClient> {
    const c = new RawSipClient(transport, remote);
    if (transport === "udp") {
      const v6 = remote.host.includes(":");
      const s = createSocket(v6 ? "udp6" : "udp4");
      s.on("message", (d) => {
        const r = parse(d.toString("latin1"));
        if (r) c.received.push(r);
      });
      await new Promise<void>((resolve) => s.bind(0, v6 ? "::1" : "127.0.0.1", () => resolve()));
      c.udp = s;
      c.port = s.address().port;
    } else {
      const s = connect({ host: remote.host, port: remote.port });
      await new Promise<void>((resolve, reject) => {
        s.once("connect", () => resolve());
        s.once("error", reject);
      });
      const reader = new SipStreamReader((text) => {
        const r = parse(text);
        if (r) c.received.push(r);
      });
      s.on("data", (d: Buffer) => reader.push(d));
      c.tcp = s;
      c.port = s.localPort ?? 0;
    }
    return c;
  }

  send(text: string | Buffer): void {
    const data =
      typeof text === "string" ? Buffer.from(text.replaceAll("@PORT@", String(this.port)), "latin1") : text;
    if (this.udp) this.udp.send(data, this.remote.port, this.remote.host);
    else this.tcp?.write(data);
  }

  /** Waits for a response matching `predicate` (default: any final). */
  async response(
    predicate: (r: RawResponse) => boolean = (r) => r.status >= 200,
    timeoutMs = 10_000,
  ): Promise<RawResponse> {
    let found: RawResponse | undefined;
    await waitFor(
      () => {
        found = this.received.find(predicate);
        return found !== undefined;
      },
      timeoutMs,
      "a SIP response",
    );
    return found!;
  }

  /** TCP: whether the connection has been closed (by either side). */
  get connectionClosed(): boolean {
    return this.tcp?.closed ?? false;
  }

  close(): void {
    this.udp?.close();
    this.tcp?.destroy();
  }
}

/** A request with the mandatory headers; `@PORT@` is replaced by the client's port when sent. */
export function rawRequest(
  method: string,
  requestUri: string,
  transport: "udp" | "tcp",
  options: {
    branch?: string;
    callId?: string;
    extra?: readonly string[];
    body?: string;
    toTag?: string;
    maxForwards?: number;
  } = {},
): string {
  const body = options.body ?? "";
  return [
    `${method} ${requestUri} SIP/2.0`,
    `Via: SIP/2.0/${transport.toUpperCase()} 127.0.0.1:@PORT@;branch=${options.branch ?? `z9hG4bK${Math.random().toString(36).slice(2)}`};rport`,
    `Max-Forwards: ${options.maxForwards ?? 70}`,
    `From: <sip:tester@127.0.0.1>;tag=raw1`,
    `To: <${requestUri}>${options.toTag ? `;tag=${options.toTag}` : ""}`,
    `Call-ID: ${options.callId ?? `${Math.random().toString(36).slice(2)}@test`}`,
    `CSeq: 1 ${method}`,
    ...(options.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");
}
