// The edge reads its TLS files through the same checks as `config check` (config/tls-files.ts):
// a start or a reload refuses a bad file with the problem at its path, in the same words.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TlsFilesError } from "../../src/config/tls-files.js";
import { readTlsCredentials } from "../../src/sip/native/tls-transport.js";
import { createTestPki } from "../support/test-pki.js";

const settings = { verifyGateways: true, requireClientCertificate: false };

describe("readTlsCredentials", () => {
  it("reads a matching chain and key, with the caFile as trust anchors", async () => {
    const pki = createTestPki();
    const proxy = pki.issue("proxy", ["proxy.example"]);
    const creds = await readTlsCredentials({ ...settings, ...proxy, caFile: pki.caFile });
    expect(creds.cert?.toString("latin1")).toContain("-----BEGIN CERTIFICATE-----");
    expect(creds.key?.toString("latin1")).toContain("PRIVATE KEY-----");
    expect(creds.trustAnchors).toBe(pki.caFile);
  });

  it("refuses every bad file at its own path, as config check does", async () => {
    const pki = createTestPki();
    const proxy = pki.issue("proxy", ["proxy.example"]);
    const other = pki.issue("other", ["other.example"]);
    const missingCa = join(pki.dir, "missing-ca.pem");
    const refusal = await readTlsCredentials({
      ...settings,
      certFile: proxy.certFile,
      keyFile: other.keyFile,
      caFile: missingCa,
    }).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(TlsFilesError);
    const problems = (refusal as TlsFilesError).problems;
    expect(problems).toContainEqual({
      path: "sip.tls.keyFile",
      message: `${other.keyFile} is not the private key of the certificate in ${proxy.certFile}`,
    });
    expect(problems).toContainEqual({
      path: "sip.tls.caFile",
      message: `cannot read ${missingCa}: file not found`,
    });
    expect((refusal as Error).message).toContain("sip.tls.keyFile: ");
  });
});
