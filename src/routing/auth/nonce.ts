// Stateless, HMAC-signed digest nonces. A nonce carries its issue time and a serial, signed
// with a per-process secret and bound to the realm, so any nonce we see can be checked for
// authenticity and age without remembering it (RFC 7616 §5.4 suggests a timestamp plus a
// private key). Only the nonce-count of nonces actually used is remembered, for replay
// protection (RFC 7616 §3.3 `nc`).
import { createHmac, timingSafeEqual } from "node:crypto";

export type NonceCheck = "valid" | "stale" | "invalid";

export class NonceAuthority {
  private serial = 0;

  constructor(
    private readonly secret: Uint8Array,
    private readonly lifetimeMs: number,
  ) {}

  issue(realm: string, now: number): string {
    this.serial = (this.serial + 1) >>> 0;
    const payload = `${Math.floor(now).toString(36)}-${this.serial.toString(36)}`;
    return `${payload}.${this.sign(payload, realm)}`;
  }

  check(nonce: string, realm: string, now: number): NonceCheck {
    const dot = nonce.lastIndexOf(".");
    if (dot <= 0) return "invalid";
    const payload = nonce.slice(0, dot);
    const given = Buffer.from(nonce.slice(dot + 1));
    const expected = Buffer.from(this.sign(payload, realm));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "invalid";
    const issuedAt = Number.parseInt(payload.split("-")[0] ?? "", 36);
    if (!Number.isFinite(issuedAt) || issuedAt > now + 1000) return "invalid";
    return now - issuedAt > this.lifetimeMs ? "stale" : "valid";
  }

  /** When a nonce issued by us stops being valid (for pruning replay records). */
  expiresAt(nonce: string): number {
    const issuedAt = Number.parseInt(nonce.split("-")[0] ?? "", 36);
    return (Number.isFinite(issuedAt) ? issuedAt : 0) + this.lifetimeMs;
  }

  private sign(payload: string, realm: string): string {
    return createHmac("sha256", this.secret)
      .update(`${payload}\n${realm.toLowerCase()}`)
      .digest("base64url")
      .slice(0, 22);
  }
}

/**
 * The highest nonce-count seen per nonce. A request whose `nc` is not above it is a replay.
 * Records are dropped once their nonce has expired, and the table is bounded so that a flood
 * of valid-looking nonces cannot grow memory without limit.
 */
export class NonceCountTracker {
  private readonly seen = new Map<string, { nc: number; expiresAt: number }>();

  constructor(private readonly maxEntries = 100_000) {}

  /** Records `nc` for `nonce`; false when it does not increase (a replay). */
  accept(nonce: string, nc: number, expiresAt: number, now: number): boolean {
    this.prune(now);
    const previous = this.seen.get(nonce);
    if (previous !== undefined && nc <= previous.nc) return false;
    this.seen.delete(nonce);
    this.seen.set(nonce, { nc, expiresAt });
    return true;
  }

  private prune(now: number): void {
    for (const [nonce, entry] of this.seen) {
      if (entry.expiresAt > now && this.seen.size <= this.maxEntries) break;
      this.seen.delete(nonce);
    }
  }
}
