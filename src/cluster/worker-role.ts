// What a worker process is told by the cluster primary (src/cluster/supervisor.ts), and how it
// talks back: its index, the relay secret, the own ports it had before a restart, and the IPC
// messages that carry the port table and the cluster-wide /metrics.
import { randomBytes } from "node:crypto";
import { extname } from "node:path";
import type { OwnUdpPorts } from "./shared-port-dispatch.js";

export interface WorkerIdentity {
  readonly index: number;
  readonly count: number;
  readonly token: string;
  /** The own port asked for per listen address (a restarted worker asks for its old ones). */
  readonly preferredPorts: readonly number[];
}

/** Messages between a worker and the primary, over the cluster's IPC channel. */
export type ClusterMessage =
  | { readonly dg: "own-ports"; readonly index: number; readonly udp: OwnUdpPorts; readonly ports: number[] }
  | { readonly dg: "port-table"; readonly udp: readonly (OwnUdpPorts | null)[] }
  | { readonly dg: "ready"; readonly index: number }
  | { readonly dg: "metrics-request"; readonly id: number }
  | { readonly dg: "metrics-reply"; readonly id: number; readonly text: string; readonly error?: string };

export function isClusterMessage(m: unknown): m is ClusterMessage {
  return typeof m === "object" && m !== null && typeof (m as { dg?: unknown }).dg === "string";
}

const ENV = {
  index: "DIALGATE_WORKER_INDEX",
  count: "DIALGATE_WORKER_COUNT",
  token: "DIALGATE_CLUSTER_TOKEN",
  ports: "DIALGATE_WORKER_PORTS",
} as const;

export function newClusterToken(): string {
  return randomBytes(16).toString("hex");
}

/** The environment a worker is forked with. */
export function workerEnv(identity: WorkerIdentity): Record<string, string> {
  return {
    [ENV.index]: String(identity.index),
    [ENV.count]: String(identity.count),
    [ENV.token]: identity.token,
    [ENV.ports]: identity.preferredPorts.join(","),
  };
}

/** Read in a forked worker; null in the primary or a single process. */
export function workerIdentityFromEnv(env: NodeJS.ProcessEnv): WorkerIdentity | null {
  const index = Number(env[ENV.index]);
  const count = Number(env[ENV.count]);
  const token = env[ENV.token];
  if (!Number.isInteger(index) || !Number.isInteger(count) || token === undefined || token === "")
    return null;
  const ports = (env[ENV.ports] ?? "")
    .split(",")
    .filter((p) => p !== "")
    .map(Number);
  return { index, count, token, preferredPorts: ports };
}

/**
 * Each worker's CDR journal: the first keeps `cdr.file`, the others a file of their own beside it
 * (the journal has one writer). With Redis, a worker's journal is only its spool for outages.
 */
export function workerCdrFile(file: string, index: number): string {
  if (index === 0) return file;
  const ext = extname(file);
  return `${ext === "" ? file : file.slice(0, -ext.length)}-worker${index}${ext}`;
}
