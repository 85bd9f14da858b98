// How many SIP worker processes `dialgate serve` runs (`sip.workers`).
import { availableParallelism } from "node:os";
import type { DialgateConfig } from "../config/schema.js";

/**
 * "auto": one per core when Redis shares the state between processes, else 1 — the embedded
 * default keeps registrations, capacity and the journal in one process, so it stays one.
 */
export function workerCount(config: DialgateConfig, cores: number = availableParallelism()): number {
  const w = config.sip.workers;
  if (w !== "auto") return w;
  return config.redis !== undefined && config.sip.edge === "native" ? Math.max(1, cores) : 1;
}
