// The trust anchors used when `sip.tls.caFile` is not set: the operating system's CA bundle
// (config.md: "default: the system store"). Node's TLS uses its own bundled copy of Mozilla's
// roots unless told otherwise. `--use-openssl-ca` would have to be on every way node is started
// (the bin's shebang, the Dockerfile's ENTRYPOINT, `npm start`, NODE_OPTIONS), changes the store
// of the whole process (webhooks too), and with no CA files present (a slim container without
// ca-certificates) leaves an empty store that fails every verification without a word. Reading
// the bundle file the distribution maintains works however node is started, applies to SIP
// alone, says which file it used and falls back visibly; it is re-read on every reload
// (SIGHUP), like the other files.
import { readFile } from "node:fs/promises";

/** Where distributions keep the bundle (the file OpenSSL's own default points at). */
export const SYSTEM_CA_BUNDLES: readonly string[] = [
  "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Alpine (ca-certificates)
  "/etc/pki/tls/certs/ca-bundle.crt", // RHEL, Fedora, Amazon Linux
  "/etc/ssl/ca-bundle.pem", // openSUSE
  "/etc/ssl/cert.pem", // Alpine without ca-certificates, macOS
];

export interface SystemTrustStore {
  readonly ca: Buffer;
  /** The file read, for the log. */
  readonly file: string;
}

export interface TrustStoreLookup {
  /** OpenSSL's override of its default bundle; when set, it is the only file tried. */
  readonly sslCertFile?: string | undefined;
  readonly candidates?: readonly string[];
}

/**
 * The system bundle: `SSL_CERT_FILE` when set (an unreadable one is an error: the operator
 * asked for it), else the first bundle that exists. Null when there is none (a container
 * without ca-certificates): the caller falls back to Node's bundled roots and says so.
 */
export async function readSystemTrustStore(lookup: TrustStoreLookup = {}): Promise<SystemTrustStore | null> {
  if (lookup.sslCertFile !== undefined && lookup.sslCertFile !== "") {
    const file = lookup.sslCertFile;
    let ca: Buffer;
    try {
      ca = await readFile(file);
    } catch (err) {
      throw new Error(`SSL_CERT_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    if (!ca.includes("-----BEGIN CERTIFICATE-----"))
      throw new Error(`SSL_CERT_FILE: ${file} holds no PEM certificate`);
    return { ca, file };
  }
  for (const file of lookup.candidates ?? SYSTEM_CA_BUNDLES) {
    const ca = await readFile(file).catch(() => null);
    if (ca?.includes("-----BEGIN CERTIFICATE-----")) return { ca, file };
  }
  return null;
}
