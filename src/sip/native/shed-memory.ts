// The INVITEs admission control refused, remembered for as long as their sender may retransmit
// them (64*T1, RFC 3261 §17.1.1.2 Timer B). A stateless 503 leaves no server transaction, so
// without this a retransmission of a refused INVITE that arrives once the load has eased -
// under overload it is often already queued behind the original - would be admitted: the
// caller, who got the 503 and gave up, would leave a call ringing or answered at the gateway
// that nobody ACKs or hangs up. A remembered INVITE is refused again, the same way.

import { ownCopy } from "../../util/own-copy.js";

/** Bounded: past `maxEntries` the oldest are forgotten first (they are the closest to expiry). */
export class ShedMemory {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly holdMs: number,
    private readonly maxEntries = 200_000,
  ) {}

  remember(key: string, now: number): void {
    this.prune(now);
    if (this.until.size >= this.maxEntries) {
      const oldest = this.until.keys().next().value;
      if (oldest !== undefined) this.until.delete(oldest);
    }
    this.until.delete(key);
    // Kept 64*T1: an own copy, not a slice that would hold the refused INVITE's whole text.
    this.until.set(ownCopy(key), now + this.holdMs);
  }

  has(key: string, now: number): boolean {
    const t = this.until.get(key);
    if (t === undefined) return false;
    if (t > now) return true;
    this.until.delete(key);
    return false;
  }

  get size(): number {
    return this.until.size;
  }

  /** Entries are in insertion order with one hold time, so expired ones are at the front. */
  private prune(now: number): void {
    for (const [key, t] of this.until) {
      if (t > now) break;
      this.until.delete(key);
    }
  }
}
