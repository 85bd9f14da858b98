// The files `sip.tls` names, read and checked once, the way the edge uses them (issue #15): a
// certificate chain, a private key and trust anchors that cannot be read or parsed, or a key that
// is not the certificate's. `config check`, `dialgate reload --config` and the start-up check
// report each problem at its own path; the edge (tls-transport.ts readTlsCredentials) reads the
// files through the same function, so a start, a reload and the file check say the same thing.
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

/** The PEM bytes of the files `sip.tls` names (each absent when not named). */
export interface TlsFiles {
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly ca?: Buffer;
}

/** A `sip.tls` file that cannot be used; `problems` holds each one at its path. */
export class TlsFilesError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join("; "));
  }
}

/** Reads the files and checks them: the bytes, and every problem found (none: usable). */
export async function readTlsFiles(
  tls: TlsSettings | undefined,
): Promise<{ readonly files: TlsFiles; readonly problems: ConfigProblem[] }> {
  if (tls === undefined) return { files: {}, problems: [] };
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
  const files: TlsFiles = {
    ...(cert === null ? {} : { cert }),
    ...(key === null ? {} : { key }),
    ...(ca === null ? {} : { ca }),
  };
  return { files, problems };
}

export async function validateTlsFiles(tls: TlsSettings | undefined): Promise<ConfigProblem[]> {
  return (await readTlsFiles(tls)).problems;
}

async function readPem(
  file: string | undefined,
  field: string,
  report: (field: string, message: string) => void,
): Promise<Buffer | null> {
  if (file === undefined) return null;
  try {
    return await readFile(file);
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
  pem: Buffer,
  field: string,
  file: string | undefined,
  report: (field: string, message: string) => void,
): X509Certificate[] | null {
  const blocks = pem.toString("latin1").match(PEM_CERTIFICATE) ?? [];
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
  pem: Buffer,
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
