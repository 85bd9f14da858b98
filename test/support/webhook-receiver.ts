// A real HTTP receiver for webhook tests (node:http on a loopback port, the OS's pick or a given
// one). Each request is answered by the current `behaviour` (a status, a status after a delay, or
// "hang" to never answer, which the sender's timeout must handle), and recorded with its raw body
// and signature header as soon as it has arrived.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export type Behaviour = number | "hang" | { readonly status: number; readonly delayMs: number };

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly rawBody: string;
  /** What the receiver answered (null: it hung). */
  readonly status: number | null;
}

export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Decides the answer to the next request; the default accepts. */
  behaviour: (n: number) => Behaviour = () => 200;
  private readonly hanging: ServerResponse[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on `port` (default: one the OS picks). */
  static async start(port = 0): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | null = null;
    const server = createServer((req, res) => receiver?.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    const addr = server.address();
    receiver = new WebhookReceiver(server, typeof addr === "object" && addr !== null ? addr.port : 0);
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/cdr`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const b = this.behaviour(this.requests.length);
      this.requests.push({
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        rawBody: Buffer.concat(chunks).toString("utf8"),
        status: b === "hang" ? null : typeof b === "number" ? b : b.status,
      });
      if (b === "hang") {
        this.hanging.push(res);
        return;
      }
      const answer = (status: number) =>
        res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "no");
      if (typeof b === "number") answer(b);
      else {
        this.hanging.push(res);
        setTimeout(() => {
          if (!res.destroyed) answer(b.status);
        }, b.delayMs);
      }
    });
  }

  /** Ids in bodies that were answered 2xx (in order, repeats kept). */
  acknowledgedIds(): string[] {
    return this.requests
      .filter((r) => r.status !== null && r.status >= 200 && r.status < 300)
      .flatMap((r) => (JSON.parse(r.rawBody) as { records: { id: string }[] }).records.map((x) => x.id));
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
