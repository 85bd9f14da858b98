import { describe, expect, it } from "vitest";
import { parseDigestCredentials } from "../../src/routing/auth/digest-params.js";
import { NonceAuthority, NonceCountTracker } from "../../src/routing/auth/nonce.js";

describe("digest credentials", () => {
  it("parses quoted and token parameters, with escapes, case-insensitive names", () => {
    const c = parseDigestCredentials(
      'Digest USERNAME="al\\"ice", realm="contoso.com", nonce="n.1", uri="sip:x@y", response="ABCDEF", qop=auth, NC=00000001, cnonce="c", algorithm=sha-256',
    );
    expect(c).toMatchObject({
      username: 'al"ice',
      realm: "contoso.com",
      response: "abcdef",
      qop: "auth",
      nc: "00000001",
      algorithm: "SHA-256",
    });
  });

  it("refuses other schemes, missing fields, repeated or unterminated parameters", () => {
    expect(parseDigestCredentials("Basic dXNlcjpwYXNz")).toBeNull();
    expect(parseDigestCredentials('Digest username="a", realm="r", nonce="n", uri="u"')).toBeNull();
    expect(
      parseDigestCredentials(
        'Digest username="a", username="b", realm="r", nonce="n", uri="u", response="x"',
      ),
    ).toBeNull();
    expect(parseDigestCredentials('Digest username="a, realm="r"')).toBeNull();
  });
});

describe("nonces", () => {
  const authority = new NonceAuthority(new Uint8Array(32).fill(1), 60_000);

  it("are bound to the realm and expire into stale", () => {
    const n = authority.issue("contoso.com", 1_000_000);
    expect(authority.check(n, "contoso.com", 1_030_000)).toBe("valid");
    expect(authority.check(n, "fabrikam.com", 1_030_000)).toBe("invalid");
    expect(authority.check(n, "contoso.com", 1_061_000)).toBe("stale");
    expect(authority.check(`${n}x`, "contoso.com", 1_030_000)).toBe("invalid");
    expect(authority.check("nonsense", "contoso.com", 1_030_000)).toBe("invalid");
  });

  it("are unique even when issued in the same millisecond", () => {
    expect(authority.issue("contoso.com", 5)).not.toBe(authority.issue("contoso.com", 5));
  });

  it("accept each nonce-count once and in increasing order; expired records are dropped", () => {
    const counts = new NonceCountTracker(2);
    expect(counts.accept("n1", 1, 100, 0)).toBe(true);
    expect(counts.accept("n1", 1, 100, 0)).toBe(false);
    expect(counts.accept("n1", 3, 100, 0)).toBe(true);
    expect(counts.accept("n1", 2, 100, 0)).toBe(false);
    expect(counts.accept("n2", 1, 200, 150)).toBe(true);
    // n1's record expired at 100: it is forgotten (the nonce itself is stale by then).
    expect(counts.accept("n1", 1, 100, 150)).toBe(true);
  });
});
