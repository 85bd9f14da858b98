// Header field names: case-insensitive (RFC 3261 §7.3.1), with compact forms (§7.3.3 and the
// extensions that registered one). Lookups use a canonical key: the lower-cased long name.

/** Compact form -> canonical key. */
const COMPACT: Readonly<Record<string, string>> = {
  a: "accept-contact", // RFC 3841
  b: "referred-by", // RFC 3892
  c: "content-type",
  d: "request-disposition", // RFC 3841
  e: "content-encoding",
  f: "from",
  i: "call-id",
  j: "reject-contact", // RFC 3841
  k: "supported",
  l: "content-length",
  m: "contact",
  n: "identity-info", // RFC 4474
  o: "event", // RFC 6665
  r: "refer-to", // RFC 3515
  s: "subject",
  t: "to",
  u: "allow-events", // RFC 6665
  v: "via",
  x: "session-expires", // RFC 4028
  y: "identity", // RFC 8224
};

/** Headers whose grammar is a comma-separated list (§7.3.1), so `headers()` may split them. */
const LIST_HEADERS: ReadonlySet<string> = new Set([
  "via",
  "contact",
  "route",
  "record-route",
  "path",
  "service-route",
  "allow",
  "allow-events",
  "supported",
  "require",
  "proxy-require",
  "unsupported",
  "accept",
  "accept-encoding",
  "accept-language",
  "content-encoding",
  "content-language",
  "alert-info",
  "call-info",
  "error-info",
  "in-reply-to",
  "warning",
  "reason",
  "p-asserted-identity",
  "p-preferred-identity",
  "diversion",
  "history-info",
  "accept-contact",
  "reject-contact",
  "security-client",
  "security-server",
  "security-verify",
]);

/** Canonical spellings used when this module writes a header it created. */
const CANONICAL_SPELLING: Readonly<Record<string, string>> = {
  via: "Via",
  from: "From",
  to: "To",
  "call-id": "Call-ID",
  cseq: "CSeq",
  "max-forwards": "Max-Forwards",
  "content-length": "Content-Length",
  "content-type": "Content-Type",
  contact: "Contact",
  route: "Route",
  "record-route": "Record-Route",
  "www-authenticate": "WWW-Authenticate",
};

// Fast path: the spellings seen on nearly every message map straight to their key.
const KNOWN = new Map<string, string>();
for (const key of [
  "via",
  "from",
  "to",
  "call-id",
  "cseq",
  "max-forwards",
  "content-length",
  "content-type",
  "contact",
  "route",
  "record-route",
  "allow",
  "supported",
  "user-agent",
  "server",
  "expires",
]) {
  KNOWN.set(key, key);
  const spelled =
    CANONICAL_SPELLING[key] ??
    key
      .split("-")
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join("-");
  KNOWN.set(spelled, key);
}
for (const [compact, key] of Object.entries(COMPACT)) {
  KNOWN.set(compact, key);
  KNOWN.set(compact.toUpperCase(), key);
}

/** The key of a common, exactly-spelled header name (a valid token), or undefined. */
export function knownHeaderKey(name: string): string | undefined {
  return KNOWN.get(name);
}

/** The canonical key of a header name: lower-cased, compact forms expanded. */
export function headerKey(name: string): string {
  const known = KNOWN.get(name);
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  return COMPACT[lower] ?? lower;
}

export function isListHeader(key: string): boolean {
  return LIST_HEADERS.has(key);
}

/** How to spell a header this module writes: the usual long form (`Call-ID`, `CSeq`, `Via`). */
export function canonicalSpelling(key: string): string {
  return (
    CANONICAL_SPELLING[key] ??
    key
      .split("-")
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join("-")
  );
}
