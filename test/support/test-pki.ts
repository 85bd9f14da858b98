// A throwaway certificate authority for TLS tests, made with openssl in a temporary directory at
// test setup (no key is ever committed). Certificates carry DNS and IP subjectAltNames.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface IssuedCertificate {
  /** PEM certificate chain: the leaf, then the CA (config.md: leaf first, then intermediates). */
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TestPki {
  readonly dir: string;
  /** The CA certificate (trust anchor). */
  readonly caFile: string;
  /** Issues a certificate for the given DNS names (and 127.0.0.1/::1 when `loopbackIp`). */
  issue(name: string, dnsNames: readonly string[], options?: { loopbackIp?: boolean }): IssuedCertificate;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

export function createTestPki(caName = "dialgate test CA"): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "dialgate-pki-"));
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"], dir);
  openssl(
    [
      "req",
      "-x509",
      "-new",
      "-key",
      "ca.key",
      "-sha256",
      "-days",
      "2",
      "-subj",
      `/CN=${caName}`,
      "-out",
      "ca.pem",
    ],
    dir,
  );
  const caFile = join(dir, "ca.pem");
  let serial = 1;
  return {
    dir,
    caFile,
    issue(name, dnsNames, options = {}) {
      const sans = [
        ...dnsNames.map((d) => `DNS:${d}`),
        ...(options.loopbackIp ? ["IP:127.0.0.1", "IP:::1"] : []),
      ];
      writeFileSync(
        join(dir, `${name}.ext`),
        `subjectAltName=${sans.join(",")}\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n`,
      );
      openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`], dir);
      openssl(
        ["req", "-new", "-key", `${name}.key`, "-subj", `/CN=${dnsNames[0] ?? name}`, "-out", `${name}.csr`],
        dir,
      );
      openssl(
        [
          "x509",
          "-req",
          "-in",
          `${name}.csr`,
          "-CA",
          "ca.pem",
          "-CAkey",
          "ca.key",
          "-set_serial",
          String(serial++),
          "-days",
          "2",
          "-sha256",
          "-extfile",
          `${name}.ext`,
          "-out",
          `${name}.leaf.pem`,
        ],
        dir,
      );
      execFileSync("sh", ["-c", `cat ${name}.leaf.pem ca.pem > ${name}.pem`], { cwd: dir });
      return { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
    },
  };
}

/** The certificates the TLS end-to-end tests share, from one throwaway CA. */
export interface TlsTestCertificates {
  readonly pki: TestPki;
  /** dialgate's own (dialgate.test). */
  readonly dialgate: IssuedCertificate;
  /** A gateway's (sbc1.tls.test); in-dialog requests go to its Contact, an address, so it carries 127.0.0.1 too. */
  readonly gateway: IssuedCertificate;
  /** One for a name no gateway has (wrong.example). */
  readonly wrong: IssuedCertificate;
}

export function issueTlsTestCertificates(): TlsTestCertificates {
  const pki = createTestPki();
  return {
    pki,
    dialgate: pki.issue("dialgate", ["dialgate.test"], { loopbackIp: true }),
    gateway: pki.issue("sbc1", ["sbc1.tls.test"], { loopbackIp: true }),
    wrong: pki.issue("wrong", ["wrong.example"], { loopbackIp: true }),
  };
}
