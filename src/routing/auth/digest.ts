// SIP digest authentication of users (routing.md "Who is calling"): RFC 3261 §22 with the
// RFC 7616/8760 algorithms MD5 and SHA-256, `qop=auth` only, nonce expiry answered with
// `stale=true`, and replay protection by nonce-count. The stored secret is HA1
// (`H(username:realm:password)`), never the password.
import { createHash, timingSafeEqual } from "node:crypto";
import type { DirectoryUser } from "../../directory/directory.js";
import { type DigestCredentials, parseDigestCredentials } from "./digest-params.js";
import type { NonceAuthority, NonceCountTracker } from "./nonce.js";

export type DigestAlgorithm = "SHA-256" | "MD5";

/**
 * 401/WWW-Authenticate for a registrar (RFC 3261 §22.2), 407/Proxy-Authenticate for a proxy
 * (§22.3): the registrar answers REGISTER itself, every other request is being proxied.
 */
export type ChallengeKind = "registrar" | "proxy";

export type DigestOutcome =
  | { readonly kind: "authenticated"; readonly algorithm: DigestAlgorithm }
  /** No usable credentials for this realm: challenge (again). */
  | { readonly kind: "challenge"; readonly stale: boolean; readonly why: string }
  /** Credentials for this realm that are wrong: refuse. */
  | { readonly kind: "rejected"; readonly why: string };

export interface DigestRequest {
  readonly method: string;
  header(name: string): readonly string[];
}

export class DigestAuthenticator {
  constructor(
    private readonly nonces: NonceAuthority,
    private readonly counts: NonceCountTracker,
  ) {}

  /** The algorithms a user can be challenged with, most preferred first (RFC 8760 §2.4). */
  static algorithmsFor(user: DirectoryUser): DigestAlgorithm[] {
    const out: DigestAlgorithm[] = [];
    if (user.config.sipPasswordHa1Sha256 !== undefined) out.push("SHA-256");
    if (user.config.sipPasswordHa1 !== undefined) out.push("MD5");
    return out;
  }

  verify(request: DigestRequest, user: DirectoryUser, now: number): DigestOutcome {
    const realm = user.domain;
    // Both headers are read: a client may answer a 407 in Authorization or the reverse, and
    // only credentials for our realm count (others belong to a downstream hop).
    const candidates = [...request.header("proxy-authorization"), ...request.header("authorization")]
      .map(parseDigestCredentials)
      .filter((c): c is DigestCredentials => c !== null && c.realm.toLowerCase() === realm);
    const creds = candidates[0];
    if (creds === undefined) return { kind: "challenge", stale: false, why: "no credentials for the realm" };

    if (creds.username !== user.username) return { kind: "rejected", why: "username does not match From" };
    const algorithm = toAlgorithm(creds.algorithm);
    if (algorithm === null) return { kind: "challenge", stale: false, why: "unsupported algorithm" };
    const ha1 = algorithm === "MD5" ? user.config.sipPasswordHa1 : user.config.sipPasswordHa1Sha256;
    if (ha1 === undefined) return { kind: "challenge", stale: false, why: "no secret for this algorithm" };
    if (
      creds.qop !== "auth" ||
      creds.nc === null ||
      creds.cnonce === null ||
      !/^[0-9a-f]{8}$/i.test(creds.nc)
    ) {
      // Without qop there is no nonce-count, hence no replay protection: insist on qop=auth.
      return { kind: "challenge", stale: false, why: "qop=auth with nc and cnonce is required" };
    }
    // The digest `uri` is hashed as sent and not compared with the Request-URI: SIPp and
    // several phones put the proxy's address there (RFC 3261 §22.4 leaves proxies room), and
    // a captured answer cannot be reused anyway, because its nonce-count is spent.

    const nonceState = this.nonces.check(creds.nonce, realm, now);
    if (nonceState === "invalid") return { kind: "challenge", stale: false, why: "nonce not issued by us" };

    const hash = (s: string) =>
      createHash(algorithm === "MD5" ? "md5" : "sha256")
        .update(s)
        .digest("hex");
    const ha2 = hash(`${request.method}:${creds.uri}`);
    const expected = hash(`${ha1}:${creds.nonce}:${creds.nc}:${creds.cnonce}:auth:${ha2}`);
    if (!sameHex(expected, creds.response)) return { kind: "rejected", why: "wrong digest response" };

    // The password was right but the nonce is old: RFC 7616 §3.3 says re-challenge with
    // stale=true so the client retries without asking the user.
    if (nonceState === "stale") return { kind: "challenge", stale: true, why: "nonce expired" };
    const nc = Number.parseInt(creds.nc, 16);
    if (!this.counts.accept(creds.nonce, nc, this.nonces.expiresAt(creds.nonce), now)) {
      return { kind: "challenge", stale: false, why: "nonce-count replayed" };
    }
    return { kind: "authenticated", algorithm };
  }

  /** The challenge headers: one per algorithm the user has a secret for, preferred first. */
  challenge(
    user: DirectoryUser,
    kind: ChallengeKind,
    stale: boolean,
    now: number,
  ): (readonly [string, string])[] {
    const name = kind === "registrar" ? "WWW-Authenticate" : "Proxy-Authenticate";
    return DigestAuthenticator.algorithmsFor(user).map((algorithm) => {
      const nonce = this.nonces.issue(user.domain, now);
      const staleParam = stale ? ", stale=true" : "";
      return [
        name,
        `Digest realm="${user.domain}", nonce="${nonce}", algorithm=${algorithm}, qop="auth"${staleParam}`,
      ] as const;
    });
  }
}

function toAlgorithm(name: string): DigestAlgorithm | null {
  if (name === "MD5") return "MD5";
  if (name === "SHA-256") return "SHA-256";
  return null;
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}
