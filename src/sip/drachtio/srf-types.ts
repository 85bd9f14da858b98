// drachtio-srf's bundled TypeScript types (lib/@types/index.d.ts in 5.0.29) are partly wrong,
// so the edge does not use them: this file is the one place that describes the library as it
// behaves (read from its lib/*.js), and `createSrf` is the one cast. What the bundled types get
// wrong, and what we rely on instead:
//
// * `connect()` is typed as returning a Promise; it returns nothing and reports through the
//   `connect` event (and `error`, which throws if nobody listens).
// * `proxyRequest()` is typed `void`; without a callback it returns a Promise of the results.
// * `createUAC`'s `cbRequest` is typed `(req)`; it is called `(err, req)`.
// * `Response` has `meta.source_address` / `source_port` (empty / 0 when drachtio-server or
//   sofia made the response up: transport failure, Timer B), which the types omit.
// * `SipError` (status + the response) is not declared at all.
// * `Dialog#destroy()` is typed `void`; without a callback it returns a Promise, rejected when
//   drachtio-server has already torn the dialog down (so we always pass the callback).
// * `connect` takes `reconnect`, `enablePing`, `pingInterval` and `tls`, which the types omit.
// * The agent's per-socket state (`_app.client.mapServer`, pending pings) is internal; the dead
//   connection check reads it (connection.ts) because drachtio-srf sends pings but never acts
//   on a missing pong. Its connection (`wp`) emits every drachtio protocol message as `msg`
//   before the agent dispatches it: the SIP traffic metrics count there (traffic-counter.ts).
// * `Dialog#handle(req, res)` (internal, undeclared) is how srf hands a dialog its in-dialog
//   requests; for a BYE it calls `res.send(200)` and then emits `destroy`, with no hook in
//   between, so holding that 200 until the CDR is durable wraps it (bye-answer.ts).
import { createRequire } from "node:module";
import type { ConnectionOptions as TlsConnectionOptions } from "node:tls";

export interface SrfMessage {
  readonly method?: string;
  readonly status?: number;
  readonly reason?: string;
  readonly body: string;
  readonly raw: string;
  readonly uri?: string;
  readonly callId?: string;
  get(name: string): string | undefined;
  has(name: string): boolean;
}

export interface SrfRequest extends SrfMessage {
  readonly method: string;
  readonly uri: string;
  readonly source_address: string;
  readonly source_port: number | string;
  readonly protocol: string;
  readonly msg: SrfMessage;
  on(event: "cancel", listener: (msg: SrfMessage) => void): this;
  cancel(callback?: (err: unknown) => void): void;
}

export interface SrfResponseMeta {
  readonly source: string;
  readonly source_address: string;
  readonly source_port: number;
  readonly protocol: string;
}

/** A response received by a UAC (or the one inside a SipError). */
export interface SrfReceivedResponse extends SrfMessage {
  readonly status: number;
  readonly reason: string;
  readonly meta?: SrfResponseMeta;
  readonly msg?: SrfMessage;
}

/** The server side of an incoming request. */
export interface SrfResponse {
  readonly finalResponseSent: boolean;
  send(status: number, reason?: string, opts?: SendOptions, callback?: (err: unknown) => void): void;
}

export interface SendOptions {
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface SrfDialog {
  readonly sip: { readonly callId: string; readonly localTag: string; readonly remoteTag: string };
  /** False once a BYE ended it (set before its `destroy` event, whoever listened). */
  readonly connected: boolean;
  readonly local: { readonly sdp: string };
  readonly remote: { readonly sdp: string };
  /**
   * Sends BYE. Without a callback drachtio-srf returns a Promise (the bundled types say void)
   * that rejects when drachtio-server no longer has the dialog (ENODIALOG, or its connection was
   * replaced); so the callback is required here, and nothing is left unhandled.
   */
  destroy(opts: { headers?: Record<string, string> }, callback: (err: unknown) => void): this;
  modify(sdp: string): Promise<string>;
  request(opts: {
    method: string;
    headers?: Record<string, string>;
    body?: string;
  }): Promise<SrfReceivedResponse>;
  on(event: "destroy", listener: (msg: SrfMessage) => void): this;
  on(event: "modify" | "info", listener: (req: SrfRequest, res: SrfResponse) => void): this;
  /** Internal: srf's dialog middleware calls it with each in-dialog request (bye-answer.ts). */
  handle(req: SrfRequest, res: SrfResponse, next?: () => void): void;
}

export interface CreateUacOptions {
  readonly headers: Record<string, string>;
  readonly localSdp?: string;
  /** Where to send the INVITE (the Request-URI is left as given): `sip:host:port;transport=x`. */
  readonly proxy: string;
}

export interface ProxyResults {
  readonly finalStatus: number;
  readonly connected: boolean;
  readonly responses: readonly {
    readonly address: string;
    readonly port: number;
    readonly msgs: readonly { readonly status: number; readonly reason?: string }[];
  }[];
}

export interface SrfConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly secret: string;
  readonly tls?: TlsConnectionOptions;
  /** maxAttempts 1 turns drachtio-srf's own reconnect off (it reconnects without TLS). */
  readonly reconnect?: { readonly maxAttempts: number };
  readonly enablePing?: boolean;
  readonly pingInterval?: number;
}

/** drachtio-srf's agent (lib/drachtio-agent.js): one per `connect()`, with its sockets. */
export interface Agent {
  readonly mapServer: Map<AgentSocket, { readonly pendingPingRequests: Set<string> }>;
  readonly wp:
    | {
        send(socket: AgentSocket, msg: string): string;
        /** Every drachtio protocol message received, leader line first (traffic-counter.ts). */
        on(event: "msg", listener: (socket: AgentSocket, msg: string) => void): unknown;
      }
    | undefined;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

/** A socket to a drachtio-server, as the agent keeps it. */
export interface AgentSocket {
  readonly destroyed: boolean;
  destroy(err?: Error): void;
}

export type CdrSource = "network" | "application";

export interface Srf {
  connect(opts: SrfConnectOptions): void;
  disconnect(): void;
  on(event: "connect", listener: (err: Error | null, hostport: string, version?: string) => void): this;
  on(event: "error", listener: (err: Error) => void): this;
  on(event: "close", listener: () => void): this;
  on(event: "cdr:attempt", listener: (source: CdrSource, time: string, msg: SrfMessage) => void): this;
  on(
    event: "cdr:start" | "cdr:stop",
    listener: (source: CdrSource, time: string, detail: string, msg: SrfMessage) => void,
  ): this;
  removeAllListeners(): this;
  invite(handler: (req: SrfRequest, res: SrfResponse) => void): void;
  register(handler: (req: SrfRequest, res: SrfResponse) => void): void;
  options(handler: (req: SrfRequest, res: SrfResponse) => void): void;
  publish(handler: (req: SrfRequest, res: SrfResponse) => void): void;
  subscribe(handler: (req: SrfRequest, res: SrfResponse) => void): void;
  message(handler: (req: SrfRequest, res: SrfResponse) => void): void;
  createUAC(
    uri: string,
    opts: CreateUacOptions,
    progress: {
      cbRequest?: (err: unknown, req?: SrfRequest) => void;
      cbProvisional?: (res: SrfReceivedResponse) => void;
    },
  ): Promise<SrfDialog>;
  createUAS(
    req: SrfRequest,
    res: SrfResponse,
    opts: { localSdp: string; headers?: Record<string, string> },
  ): Promise<SrfDialog>;
  proxyRequest(
    req: SrfRequest,
    destination: readonly string[],
    opts: { recordRoute: boolean; forking: "simultaneous" | "sequential"; remainInDialog: boolean },
  ): Promise<ProxyResults>;
  /**
   * An out-of-dialog request. The callback form only: the callback runs synchronously when
   * drachtio-server confirms the send, so a `response` listener added there cannot miss a
   * response that arrives in the same read (with the Promise form it can: the agent emits
   * every message of one TCP read in a loop, before an `await` resumes).
   */
  request(
    uri: string,
    opts: { method: string; headers?: Record<string, string>; proxy?: string },
    callback: (
      err: unknown,
      req?: SrfRequest & { on(event: "response", l: (res: SrfReceivedResponse) => void): void },
    ) => void,
  ): void;
  /**
   * The connect-style app (internal). `connect()` builds a new agent (`client`) every time, so
   * anything registered on the agent -- CDR handlers -- must be registered again after each
   * reconnect (connection.ts does).
   */
  readonly _app: { readonly client: Agent | undefined };
}

/** drachtio-srf's SipError: a non-2xx final (or a local failure) for a request we sent. */
export interface SrfSipError {
  readonly status: number;
  readonly reason: string;
  readonly res?: SrfReceivedResponse;
}

export function isSipError(err: unknown): err is SrfSipError {
  return typeof err === "object" && err !== null && typeof (err as { status?: unknown }).status === "number";
}

/** True when drachtio-server (sofia) made the response up: no peer address is attached. */
export function isLocalResponse(res: SrfReceivedResponse | undefined): boolean {
  const meta = res?.meta;
  return meta === undefined || meta.source_address === "" || Number(meta.source_port) === 0;
}

const require = createRequire(import.meta.url);

/** A new drachtio-srf instance, typed as it behaves. Nothing connects until `connect()`. */
export function createSrf(): Srf {
  const SrfClass = require("drachtio-srf") as new () => unknown;
  return new SrfClass() as Srf;
}
