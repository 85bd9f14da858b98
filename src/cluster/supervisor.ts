// The cluster primary of `dialgate serve` with `sip.workers` > 1. It forks the SIP workers (each a
// full dialgate instance on the shared listen ports, src/cluster/shared-port-dispatch.ts), keeps
// the table of their own UDP ports and sends it to every worker, restarts a worker that dies,
// aggregates /metrics across workers, and passes SIGHUP and SIGTERM on. It holds no call state:
// a crash of a worker loses that worker's transactions only, never the others'.
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry } from "prom-client";
import type { Logger } from "../util/logger.js";
import type { OwnUdpPorts } from "./shared-port-dispatch.js";
import { type ClusterMessage, isClusterMessage, newClusterToken, workerEnv } from "./worker-role.js";

export interface SupervisorOptions {
  readonly count: number;
  readonly logger: Logger;
  /** First delay before a crashed worker is forked again; doubled while it keeps crashing early. */
  readonly restartDelayMs?: number;
  readonly maxRestartDelayMs?: number;
}

/** A worker that lived at least this long before dying is restarted after the first delay. */
const STABLE_AFTER_MS = 10_000;

interface Slot {
  worker: Worker | null;
  udp: OwnUdpPorts | null;
  /** The own ports of its last life (asked for again after a restart: stable Record-Routes). */
  ports: number[];
  ready: boolean;
  startedAt: number;
  restartDelayMs: number;
  restartTimer: NodeJS.Timeout | null;
}

export class ClusterSupervisor {
  private readonly token = newClusterToken();
  private readonly slots: Slot[];
  private readonly aggregator = new AggregatorRegistry();
  private stopping = false;
  private readonly log: Logger;
  private readonly firstDelay: number;
  private readonly maxDelay: number;
  private startup: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private allExited: (() => void) | null = null;

  constructor(options: SupervisorOptions) {
    this.log = options.logger.child({ component: "cluster" });
    this.firstDelay = options.restartDelayMs ?? 500;
    this.maxDelay = options.maxRestartDelayMs ?? 30_000;
    this.slots = Array.from({ length: options.count }, () => ({
      worker: null,
      udp: null,
      ports: [],
      ready: false,
      startedAt: 0,
      restartDelayMs: this.firstDelay,
      restartTimer: null,
    }));
  }

  /** Forks every worker; resolves once all are serving, rejects when one fails to start. */
  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.startup = { resolve, reject };
      for (let i = 0; i < this.slots.length; i++) this.fork(i);
    });
  }

  /** Live reload: every worker re-reads the configuration file (cli/reload.ts). */
  reload(): void {
    for (const s of this.slots) s.worker?.process.kill("SIGHUP");
  }

  /** Passes the signal on (SIGTERM: drain) and resolves when every worker has exited. */
  stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    this.stopping = true;
    for (const s of this.slots) {
      if (s.restartTimer !== null) clearTimeout(s.restartTimer);
      s.restartTimer = null;
    }
    const alive = this.slots.filter((s) => s.worker !== null);
    if (alive.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.allExited = resolve;
      for (const s of alive) s.worker?.process.kill(signal);
    });
  }

  /** Pids of the workers (tests, logs). */
  get workerPids(): (number | null)[] {
    return this.slots.map((s) => s.worker?.process.pid ?? null);
  }

  private fork(index: number): void {
    const slot = this.slots[index]!;
    slot.restartTimer = null;
    slot.ready = false;
    slot.startedAt = Date.now();
    const env = workerEnv({
      index,
      count: this.slots.length,
      token: this.token,
      preferredPorts: slot.ports,
    });
    const worker = cluster.fork(env);
    slot.worker = worker;
    worker.on("message", (m: unknown) => this.receive(index, worker, m));
    worker.on("exit", (code, signal) => this.exited(index, worker, code, signal));
  }

  private receive(index: number, worker: Worker, m: unknown): void {
    if (!isClusterMessage(m) || this.slots[index]!.worker !== worker) return;
    const slot = this.slots[index]!;
    switch (m.dg) {
      case "own-ports":
        slot.udp = m.udp;
        slot.ports = m.ports;
        this.broadcastTable();
        break;
      case "ready":
        slot.ready = true;
        if (this.startup !== null && this.slots.every((s) => s.ready)) {
          this.startup.resolve();
          this.startup = null;
        }
        break;
      case "metrics-request":
        this.aggregator.clusterMetrics().then(
          (text) => this.send(worker, { dg: "metrics-reply", id: m.id, text }),
          (err: Error) => this.send(worker, { dg: "metrics-reply", id: m.id, text: "", error: err.message }),
        );
        break;
      default:
        break;
    }
  }

  /**
   * The table goes out once every worker has bound its own ports, and again whenever one
   * changes (a restart): a worker joins the shared ports only with a complete table.
   */
  private broadcastTable(): void {
    if (this.startup !== null && this.slots.some((s) => s.udp === null)) return;
    const udp = this.slots.map((s) => s.udp);
    for (const s of this.slots) if (s.worker !== null) this.send(s.worker, { dg: "port-table", udp });
  }

  private send(worker: Worker, m: ClusterMessage): void {
    if (worker.isConnected()) worker.send(m);
  }

  private exited(index: number, worker: Worker, code: number | null, signal: string | null): void {
    const slot = this.slots[index]!;
    if (slot.worker !== worker) return;
    slot.worker = null;
    slot.udp = null;
    if (this.stopping) {
      if (this.slots.every((s) => s.worker === null)) this.allExited?.();
      return;
    }
    if (this.startup !== null) {
      // A worker that cannot start (a port in use, a bad file) will not start on a retry either.
      const startup = this.startup;
      this.startup = null;
      this.log.error({ worker: index, code, signal }, "a worker failed to start");
      void this.stop().then(() =>
        startup.reject(new Error(`worker ${index} exited during start-up (code ${code}, signal ${signal})`)),
      );
      return;
    }
    // Siblings stop relaying to it until it is back (they serve its new calls meanwhile).
    this.broadcastTable();
    const lived = Date.now() - slot.startedAt;
    slot.restartDelayMs =
      lived >= STABLE_AFTER_MS ? this.firstDelay : Math.min(slot.restartDelayMs * 2, this.maxDelay);
    this.log.error(
      { worker: index, pid: worker.process.pid, code, signal, restartInMs: slot.restartDelayMs },
      "worker died: restarting it",
    );
    slot.restartTimer = setTimeout(() => this.fork(index), slot.restartDelayMs);
  }
}
