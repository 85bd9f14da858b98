// Choosing the response to send upstream when every branch has answered (RFC 3261 §16.7 step 6).

export interface FinalOutcome {
  readonly status: number;
  readonly reason: string;
  /** True when the proxy made this final up itself (timeout, transport failure, cancellation). */
  readonly local: boolean;
  /** Order in which the finals arrived (earlier wins a tie). */
  readonly seq: number;
}

/**
 * §16.7 step 6: a 6xx wins over everything; otherwise the lowest response class wins (2xx are
 * forwarded as they come and never reach this choice). Within a class the first received is
 * kept, except that a real response beats one the proxy made up.
 */
export function chooseBestResponse(outcomes: readonly FinalOutcome[]): FinalOutcome | null {
  let best: FinalOutcome | null = null;
  for (const o of outcomes) {
    if (best === null || rank(o) < rank(best)) best = o;
    else if (rank(o) === rank(best) && best.local && !o.local) best = o;
  }
  return best;
}

function rank(o: FinalOutcome): number {
  const cls = Math.floor(o.status / 100);
  return cls === 6 ? 0 : cls;
}

/**
 * §16.7 step 6: a 503 from downstream must not be forwarded as is (it would tell the caller
 * that this proxy is unavailable, §21.5.4): it becomes 500.
 */
export function upstreamStatus(o: FinalOutcome): { status: number; reason: string } {
  if (o.status === 503 && !o.local) return { status: 500, reason: "Server Internal Error" };
  return { status: o.status, reason: o.reason };
}
