// The connection to drachtio-server: connect (optionally over TLS), reconnect with backoff,
// and find a silently dead connection with the protocol's ping.
//
// Why dialgate does this itself rather than with drachtio-srf's options: drachtio-srf 5.0.29
// reconnects with plain TCP even when the first connection used TLS (wire-protocol.js
// `_onConnectionGone` calls net.connect), and its `enablePing` sends pings every interval but
// never notices a missing pong, so a half-open TCP connection (drachtio-server frozen, a NAT
// or firewall dropping state) would leave the edge deaf forever. So drachtio-srf's reconnect is
// turned off (`maxAttempts: 1`), and this class pings on its own schedule: a connection that
// misses two pongs in a row is destroyed, which starts the reconnect.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { ConnectionOptions as TlsConnectionOptions } from "node:tls";
import type { Logger } from "../../util/logger.js";
import type { Agent, AgentSocket, Srf, SrfConnectOptions } from "./srf-types.js";

export interface DrachtioConnectionSettings {
  readonly host: string;
  readonly port: number;
  readonly secret: string;
  readonly tls?:
    | {
        readonly caFile?: string | undefined;
        readonly certFile?: string | undefined;
        readonly keyFile?: string | undefined;
        readonly rejectUnauthorized?: boolean | undefined;
      }
    | undefined;
  readonly pingIntervalSeconds?: number | undefined;
}

/** First retry after 250 ms, doubling up to 10 s (a restarting drachtio-server is back in seconds). */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;
/** Pongs missed in a row before the connection counts as dead. */
const MISSED_PONGS_LIMIT = 2;

export type ConnectionState = "connecting" | "connected" | "disconnected" | "closed";

export class DrachtioConnection {
  private stateValue: ConnectionState = "disconnected";
  private retryDelay = RETRY_FIRST_MS;
  private retryTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private readonly pending = new Map<AgentSocket, { msgId: string; missed: number }>();
  private closing = false;
  private firstConnect: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private readonly tls: TlsConnectionOptions | undefined;
  /** How many times the connection was (re)established: 1 after the first. */
  connects = 0;
  serverVersion: string | null = null;
  /** drachtio-server's SIP addresses, as it reported them (`udp/127.0.0.1:5060,...`). */
  hostports: string | null = null;

  constructor(
    private readonly srf: Srf,
    private readonly settings: DrachtioConnectionSettings,
    private readonly log: Logger,
    /** Called with each new drachtio-srf agent (one per connect): CDR handlers go there. */
    private readonly onAgent: (agent: Agent) => void = () => {},
  ) {
    this.tls = tlsOptions(settings);
    srf.on("connect", (err, hostport, version) => {
      if (err !== null) {
        // Wrong secret: retrying will not help, but the operator may fix drachtio's config.
        this.log.error({ err: err.message }, "drachtio-server refused the connection");
        this.firstConnect?.reject(new Error(`drachtio-server refused the connection: ${err.message}`));
        this.firstConnect = null;
        return;
      }
      this.stateValue = "connected";
      this.connects++;
      this.retryDelay = RETRY_FIRST_MS;
      this.serverVersion = version ?? null;
      this.hostports = hostport;
      this.log.info({ hostport, version, connects: this.connects }, "connected to drachtio-server");
      this.firstConnect?.resolve();
      this.firstConnect = null;
    });
    srf.on("error", (err) => {
      this.log.warn({ err: err.message }, "drachtio connection error");
    });
    srf.on("close", () => this.onClose());
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /**
   * Connects and resolves once authenticated. A refused or lost connection keeps retrying in
   * the background; `firstTimeoutMs` only bounds how long the start waits.
   */
  start(firstTimeoutMs: number): Promise<void> {
    const first = new Promise<void>((resolve, reject) => {
      this.firstConnect = { resolve, reject };
    });
    this.open();
    this.startPinging();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `no connection to drachtio-server at ${this.settings.host}:${this.settings.port} within ${firstTimeoutMs} ms`,
            ),
          ),
        firstTimeoutMs,
      );
    });
    return Promise.race([first, timeout]).finally(() => clearTimeout(timer));
  }

  close(): void {
    this.closing = true;
    this.stateValue = "closed";
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
    const agent = this.srf._app.client;
    if (agent !== undefined) for (const socket of agent.mapServer.keys()) socket.destroy();
    this.pending.clear();
  }

  private open(): void {
    if (this.closing) return;
    this.stateValue = "connecting";
    const opts: SrfConnectOptions = {
      host: this.settings.host,
      port: this.settings.port,
      secret: this.settings.secret,
      reconnect: { maxAttempts: 1 },
      ...(this.tls ? { tls: this.tls } : {}),
    };
    this.srf.connect(opts);
    const agent = this.srf._app.client;
    if (agent !== undefined) this.onAgent(agent);
  }

  private onClose(): void {
    if (this.closing) return;
    if (this.stateValue === "connected")
      this.log.warn({ host: this.settings.host, port: this.settings.port }, "lost drachtio-server");
    this.stateValue = "disconnected";
    if (this.retryTimer !== null) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, delay);
    this.retryTimer.unref?.();
  }

  /** The drachtio protocol's `ping`: drachtio-server answers each with a `response` (pong). */
  private startPinging(): void {
    const intervalMs = (this.settings.pingIntervalSeconds ?? 15) * 1000;
    this.pingTimer = setInterval(() => this.pingAll(), intervalMs);
    this.pingTimer.unref?.();
  }

  private pingAll(): void {
    const agent = this.srf._app.client;
    if (agent === undefined) return;
    const wp = agent.wp;
    for (const socket of [...this.pending.keys()])
      if (!agent.mapServer.has(socket)) this.pending.delete(socket);
    if (wp === undefined) return;
    for (const [socket, state] of agent.mapServer) {
      if (socket.destroyed) continue;
      const last = this.pending.get(socket);
      // The agent removes a ping's id from the set when its pong arrives.
      const missed = last !== undefined && state.pendingPingRequests.has(last.msgId) ? last.missed + 1 : 0;
      if (last !== undefined) state.pendingPingRequests.delete(last.msgId);
      if (missed >= MISSED_PONGS_LIMIT) {
        this.log.warn({ missed }, "drachtio-server stopped answering pings: reconnecting");
        this.pending.delete(socket);
        socket.destroy();
        continue;
      }
      const msgId = wp.send(socket, "ping");
      state.pendingPingRequests.add(msgId);
      this.pending.set(socket, { msgId, missed });
    }
  }
}

function tlsOptions(settings: DrachtioConnectionSettings): TlsConnectionOptions | undefined {
  const t = settings.tls;
  if (t === undefined) return undefined;
  return {
    ...(t.caFile ? { ca: readFileSync(t.caFile) } : {}),
    ...(t.certFile ? { cert: readFileSync(t.certFile) } : {}),
    ...(t.keyFile ? { key: readFileSync(t.keyFile) } : {}),
    rejectUnauthorized: t.rejectUnauthorized ?? true,
    // SNI carries host names only (RFC 6066 §3); an IP address is checked against the certificate's IP SANs.
    ...(isIP(settings.host) === 0 ? { servername: settings.host } : {}),
  };
}
