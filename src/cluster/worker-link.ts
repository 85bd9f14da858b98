// The worker side of the cluster (src/cluster/supervisor.ts is the primary's): it tells the
// primary which own ports it bound, receives the table of every worker's own UDP ports (the
// dispatch on the shared port relays to them), and asks for the cluster-wide /metrics.
import { isIPv6 } from "node:net";
import type { EdgeWorkerRole, ListenAddress, UdpDispatch } from "../sip/native/transport-types.js";
import { type OwnUdpPorts, SharedPortDispatch } from "./shared-port-dispatch.js";
import { type ClusterMessage, isClusterMessage, type WorkerIdentity } from "./worker-role.js";

/** The IPC channel of a forked worker (`process` in one). */
export interface IpcChannel {
  send?(message: unknown): boolean;
  on(event: "message", listener: (message: unknown) => void): unknown;
  off(event: "message", listener: (message: unknown) => void): unknown;
}

const METRICS_TIMEOUT_MS = 5_000;

export class WorkerLink {
  private dispatch: SharedPortDispatch | null = null;
  private relayHost = { v4: "127.0.0.1", v6: "::1" };
  private joined: ((d: UdpDispatch) => void) | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (m: { text: string; error?: string }) => void>();
  private readonly onMessage = (m: unknown) => this.receive(m);

  constructor(
    readonly identity: WorkerIdentity,
    private readonly channel: IpcChannel,
  ) {
    channel.on("message", this.onMessage);
  }

  /**
   * The edge's side: bind own ports first (`workerPortBase + index`, else the port this worker
   * had before a restart, else any), then join, then bind the shared ones.
   */
  edgeRole(workerPortBase: number | undefined): EdgeWorkerRole {
    const { index, preferredPorts } = this.identity;
    return {
      ownPort: (listenIndex) =>
        workerPortBase !== undefined
          ? { port: workerPortBase + index, required: true }
          : { port: preferredPorts[listenIndex] ?? 0, required: false },
      join: (own) => this.join(own),
    };
  }

  /** The exposition text of every worker's metrics, aggregated by the primary. */
  clusterMetrics(): Promise<string> {
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error("the cluster primary did not answer with the metrics"));
      }, METRICS_TIMEOUT_MS);
      this.pending.set(id, (m) => {
        clearTimeout(timer);
        if (m.error !== undefined) reject(new Error(m.error));
        else resolve(m.text);
      });
      this.send({ dg: "metrics-request", id });
    });
  }

  close(): void {
    this.channel.off("message", this.onMessage);
  }

  private join(own: readonly ListenAddress[]): Promise<UdpDispatch> {
    const v4 = own.find((a) => a.transport === "udp" && !isIPv6(a.host));
    const v6 = own.find((a) => a.transport === "udp" && isIPv6(a.host));
    const udp: OwnUdpPorts = { v4: v4?.port ?? null, v6: v6?.port ?? null };
    // Siblings reach each other's own sockets on the listen host (same host: one machine), or on
    // loopback when it is a wildcard.
    this.relayHost = {
      v4: v4 === undefined || v4.host === "0.0.0.0" ? "127.0.0.1" : v4.host,
      v6: v6 === undefined || v6.host === "::" ? "::1" : v6.host,
    };
    return new Promise<UdpDispatch>((resolve) => {
      this.joined = resolve;
      this.send({ dg: "own-ports", index: this.identity.index, udp, ports: own.map((a) => a.port) });
    });
  }

  private receive(m: unknown): void {
    if (!isClusterMessage(m)) return;
    if (m.dg === "port-table") {
      if (this.dispatch === null) {
        if (m.udp[this.identity.index] == null) return; // not yet with our own entry
        this.dispatch = new SharedPortDispatch({
          index: this.identity.index,
          udp: m.udp,
          relayHost: this.relayHost,
          token: this.identity.token,
        });
        this.joined?.(this.dispatch);
        this.joined = null;
      } else this.dispatch.updatePorts(m.udp);
    } else if (m.dg === "metrics-reply") {
      const done = this.pending.get(m.id);
      this.pending.delete(m.id);
      done?.({ text: m.text, ...(m.error !== undefined ? { error: m.error } : {}) });
    }
  }

  private send(m: ClusterMessage): void {
    this.channel.send?.(m);
  }
}
