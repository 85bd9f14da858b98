// Retry delays for webhook delivery: exponential (base × 2^(attempt-1), capped) with "equal
// jitter" — half the delay fixed, half random — so a fleet of instances that failed together
// does not retry together, and no retry ever comes immediately.
import type { RandomSource } from "../../util/clock.js";

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** The wait after failed attempt number `attempt` (1-based). */
export function retryDelayMs(attempt: number, policy: BackoffPolicy, random: RandomSource): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(exp / 2 + random() * (exp / 2));
}
