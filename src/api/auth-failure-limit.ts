// Failed authentications per source address, on the carrier and admin APIs (`/v1/*`). The
// per-key rate limit can only count requests whose key is known; a wrong key or admin token
// (guessing, or a client misconfigured with an old key) would otherwise be answered 401 without
// bound. Past `maxFailures` 401s in a window, the address gets 429 with Retry-After until the
// window ends — for every request, a correct key included: a blocked guesser must not learn that
// a guess was right.
//
// Installed once on the whole HTTP server, it sees the 401 of every route group (carrier API,
// admin reads, admin writes) without each having to remember it. The limits are fixed: the
// configuration contract (config.md) has no setting for them, and they only bite a client that
// keeps sending credentials that cannot work.
import type { FastifyInstance } from "fastify";
import type { Logger } from "../util/logger.js";
import { apiError } from "./api-error.js";

export interface AuthFailureLimit {
  readonly maxFailures: number;
  readonly windowMs: number;
}

// 300 a minute (5 a second) stops guessing at speed, yet stays far above what a client with a
// stale key or a test run of the 401 cases sends. It is deliberately loose: every client behind
// one NAT or reverse proxy shares an address, and while it is blocked their correct keys are
// refused too.
export const DEFAULT_AUTH_FAILURE_LIMIT: AuthFailureLimit = { maxFailures: 300, windowMs: 60_000 };

/** Addresses remembered at most: a flood from many addresses cannot grow memory without bound. */
const MAX_TRACKED_ADDRESSES = 10_000;

/** The routes behind credentials (health, metrics and the OpenAPI document are open). */
const AUTHENTICATED_PREFIX = "/v1/";

interface Window {
  failures: number;
  readonly endsAt: number;
}

/** Fixed windows per address: the first failure opens one of `windowMs`. */
export class AuthFailureCounter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: AuthFailureLimit,
    private readonly now: () => number,
  ) {}

  /** Seconds until `address` may authenticate again; 0 when it may now. */
  blockedForSeconds(address: string): number {
    const w = this.current(address);
    if (w === null || w.failures < this.limit.maxFailures) return 0;
    return Math.max(1, Math.ceil((w.endsAt - this.now()) / 1000));
  }

  /** Counts a failure; true when it is the one that blocks the address. */
  recordFailure(address: string): boolean {
    const w = this.current(address) ?? this.open(address);
    w.failures++;
    return w.failures === this.limit.maxFailures;
  }

  private current(address: string): Window | null {
    const w = this.windows.get(address);
    if (w === undefined) return null;
    if (w.endsAt > this.now()) return w;
    this.windows.delete(address);
    return null;
  }

  private open(address: string): Window {
    if (this.windows.size >= MAX_TRACKED_ADDRESSES) this.forgetOldest();
    const w: Window = { failures: 0, endsAt: this.now() + this.limit.windowMs };
    this.windows.set(address, w);
    return w;
  }

  /** Drops ended windows, and if none had ended, the oldest one (Map order is opening order). */
  private forgetOldest(): void {
    const now = this.now();
    for (const [address, w] of this.windows) if (w.endsAt <= now) this.windows.delete(address);
    if (this.windows.size >= MAX_TRACKED_ADDRESSES) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
  }
}

/** Adds the hooks to the root server (before any route, so that every route gets them). */
export function limitFailedAuthentication(
  app: FastifyInstance,
  options: { readonly limit?: AuthFailureLimit; readonly now?: () => number; readonly logger: Logger },
): void {
  const limit = options.limit ?? DEFAULT_AUTH_FAILURE_LIMIT;
  const counter = new AuthFailureCounter(limit, options.now ?? Date.now);
  const seconds = Math.round(limit.windowMs / 1000);
  // Root onRequest hooks run before those of the route groups, so before any credential check.
  app.addHook("onRequest", async (request, reply) => {
    if (!request.url.startsWith(AUTHENTICATED_PREFIX)) return;
    const wait = counter.blockedForSeconds(request.ip);
    if (wait === 0) return;
    return reply
      .status(429)
      .header("retry-after", String(wait))
      .send(
        apiError(
          "rate_limited",
          `more than ${limit.maxFailures} failed authentications from this address in ${seconds} s; retry in ${wait} s with a valid key`,
        ),
      );
  });
  app.addHook("onSend", async (request, reply, payload) => {
    if (reply.statusCode === 401 && request.url.startsWith(AUTHENTICATED_PREFIX)) {
      if (counter.recordFailure(request.ip))
        options.logger.warn(
          { address: request.ip, failures: limit.maxFailures, windowSeconds: seconds },
          "too many failed authentications; refusing this address's API requests until the window ends",
        );
    }
    return payload;
  });
}
