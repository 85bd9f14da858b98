// The default trust anchors (system-trust-store.ts): SSL_CERT_FILE, else the first system
// bundle that exists, else none (Node's bundled roots then).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSystemTrustStore } from "../../src/sip/native/system-trust-store.js";

const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

function files(): { dir: string; a: string; b: string; missing: string; empty: string } {
  const dir = mkdtempSync(join(tmpdir(), "dialgate-trust-"));
  const a = join(dir, "a.pem");
  const b = join(dir, "b.pem");
  const empty = join(dir, "empty.pem");
  writeFileSync(a, pem);
  writeFileSync(b, pem);
  writeFileSync(empty, "");
  return { dir, a, b, missing: join(dir, "missing.pem"), empty };
}

describe("readSystemTrustStore", () => {
  it("takes the first bundle that exists and holds certificates", async () => {
    const f = files();
    const store = await readSystemTrustStore({ candidates: [f.missing, f.empty, f.b, f.a] });
    expect(store?.file).toBe(f.b);
    expect(store?.ca.toString()).toBe(pem);
  });

  it("takes SSL_CERT_FILE alone when it is set, and refuses one it cannot read", async () => {
    const f = files();
    expect((await readSystemTrustStore({ sslCertFile: f.a, candidates: [f.b] }))?.file).toBe(f.a);
    await expect(readSystemTrustStore({ sslCertFile: f.missing, candidates: [f.b] })).rejects.toThrow(
      /SSL_CERT_FILE: cannot read/,
    );
    await expect(readSystemTrustStore({ sslCertFile: f.empty })).rejects.toThrow(/no PEM certificate/);
  });

  it("finds nothing when no bundle exists", async () => {
    const f = files();
    expect(await readSystemTrustStore({ candidates: [f.missing] })).toBeNull();
  });
});
