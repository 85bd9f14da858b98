import { performance } from "node:perf_hooks";

/**
 * Node's event-loop utilisation (perf_hooks) as a sampler: each call returns the busy share
 * (0-1) since the previous call. Admission control and the batched UDP sender each keep one,
 * on their own periods; each sample is two cheap reads.
 */
export function eventLoopUtilisationSampler(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return u;
  };
}
