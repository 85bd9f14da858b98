// Injected effects: the pure core never reads the wall clock or Math.random directly, which is
// what makes routing, failover and health logic testable without sleeping.

export interface Clock {
  /** Milliseconds since the Unix epoch (wall clock, for records). */
  now(): number;
  /** Monotonic milliseconds (for timers and durations). */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

/** A random source returning floats in [0, 1), like Math.random. */
export type RandomSource = () => number;

export const systemRandom: RandomSource = Math.random;

/** Deterministic PRNG (mulberry32) for tests and `--seed` in the CLI. */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A clock tests can move by hand. */
export class ManualClock implements Clock {
  constructor(
    private wall = 1_700_000_000_000,
    private mono = 0,
  ) {}
  now(): number {
    return this.wall;
  }
  monotonic(): number {
    return this.mono;
  }
  advance(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }
}
