// The files `sip.tls` names, checked the way the edge will use them (issue #15): a certificate
// chain, a private key and trust anchors that cannot be read or parsed, or a key that is not the
// certificate's, would stop a start or a reload later; `config check`, `dialgate reload --config`
// and the start-up check say so first, each problem at its own path.
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { ConfigProblem } from "./problem.js";
import type { DialgateConfig } from "./schema.js";

type TlsSettings = NonNullable<DialgateConfig["sip"]["tls"]>;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Whether a `tls` listener will use the `sip.tls` files. Without one nothing speaks TLS (a `tls`
 * gateway needs a `tls` listener, security-checks.ts), so a `sip.tls` kept for later is not read:
 * at start (native-edge.ts), on reload (app.ts) and by the file check (load.ts).
 */
export function listensOnTls(listen: DialgateConfig["sip"]["listen"]): boolean {
  return listen.some((l) => l.transport === "tls");
}

export async function validateTlsFiles(tls: TlsSettings | undefined): Promise<ConfigProblem[]> {
  if (tls === undefined) return [];
  const problems: ConfigProblem[] = [];
  const report = (field: string, message: string) => problems.push({ path: `sip.tls.${field}`, message });
  const [cert, key, ca] = await Promise.all([
    readPem(tls.certFile, "certFile", report),
    readPem(tls.keyFile, "keyFile", report),
    readPem(tls.caFile, "caFile", report),
  ]);
  const chain = cert === null ? null : certificates(cert, "certFile", tls.certFile, report);
  const privateKey = key === null ? null : parseKey(key, tls.keyFile, report);
  if (ca !== null) certificates(ca, "caFile", tls.caFile, report);
  const leaf = chain?.[0];
  if (leaf !== undefined && privateKey !== null && !leaf.checkPrivateKey(privateKey))
    report("keyFile", `${tls.keyFile} is not the private key of the certificate in ${tls.certFile}`);
  return problems;
}

async function readPem(
  file: string | undefined,
  field: string,
  report: (field: string, message: string) => void,
): Promise<string | null> {
  if (file === undefined) return null;
  try {
    return await readFile(file, "latin1");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "file not found" : code === "EACCES" ? "permission denied" : String(code ?? err);
    report(field, `cannot read ${file}: ${why}`);
    return null;
  }
}

/** Every certificate of a PEM file (leaf first for a chain), or null when one does not parse. */
function certificates(
  pem: string,
  field: string,
  file: string | undefined,
  report: (field: string, message: string) => void,
): X509Certificate[] | null {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    report(field, `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    return null;
  }
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch (err) {
    report(field, `${file}: a certificate does not parse (${(err as Error).message})`);
    return null;
  }
}

function parseKey(
  pem: string,
  file: string | undefined,
  report: (field: string, message: string) => void,
): KeyObject | null {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    // Never the key's bytes in a message: only what is wrong with it.
    report("keyFile", `${file} holds no usable PEM private key (${(err as Error).message})`);
    return null;
  }
}
