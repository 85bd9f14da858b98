// Bearer credentials (RFC 6750 §2.1): `Authorization: Bearer <token>`. Tokens are compared by
// their SHA-256 in constant time against every known hash, so neither the position of a match
// nor the length of a near-miss shows in the response time.
import { createHash, timingSafeEqual } from "node:crypto";

export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i.exec(header);
  return m?.[1] ?? null;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Maps token hashes to an owner; `resolve` visits every hash whatever matches. */
export class TokenHashes<Owner> {
  private readonly entries: { readonly hash: Buffer; readonly owner: Owner }[] = [];

  add(hashHex: string, owner: Owner): void {
    this.entries.push({ hash: Buffer.from(hashHex.toLowerCase(), "hex"), owner });
  }

  get size(): number {
    return this.entries.length;
  }

  resolve(token: string): { readonly owner: Owner; readonly hashHex: string } | null {
    const presented = createHash("sha256").update(token, "utf8").digest();
    let found: Owner | null = null;
    for (const e of this.entries) {
      if (e.hash.length === presented.length && timingSafeEqual(e.hash, presented) && found === null) {
        found = e.owner;
      }
    }
    return found === null ? null : { owner: found, hashHex: presented.toString("hex") };
  }
}
