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

/**
 * Long names recognised by `matchHeaderName` without allocating: the headers of a typical
 * call plus the ones this module parses. Any other name is lower-cased once per field.
 */
const COMMON_KEYS: readonly string[] = [
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
  "require",
  "proxy-require",
  "unsupported",
  "user-agent",
  "server",
  "expires",
  "min-expires",
  "session-expires",
  "min-se",
  "p-asserted-identity",
  "p-preferred-identity",
  "privacy",
  "diversion",
  "history-info",
  "referred-by",
  "refer-to",
  "reason",
  "authorization",
  "proxy-authorization",
  "www-authenticate",
  "proxy-authenticate",
  "allow-events",
  "event",
  "subscription-state",
  "accept",
  "accept-encoding",
  "accept-language",
  "content-disposition",
  "content-encoding",
  "date",
  "timestamp",
  "organization",
  "subject",
  "priority",
  "warning",
  "rseq",
  "rack",
  "path",
  "service-route",
  "call-info",
  "alert-info",
  "retry-after",
  "mime-version",
];

/** A header name `matchHeaderName` recognises. */
export interface KnownHeaderName {
  /** Canonical key (lower-cased long name). */
  readonly key: string;
  /** The name lower-cased, for the case-insensitive comparison. */
  readonly lower: string;
  /** Per character: 0x20 where the character is a letter (either case matches), else 0. */
  readonly fold: Uint8Array;
}

// Buckets by length and first letter, so a lookup compares against one or two candidates.
const MAX_KNOWN_LENGTH = 31;
const KNOWN_BY_SHAPE: (KnownHeaderName[] | undefined)[] = [];

function bucketOf(length: number, first: number): number {
  return length * 32 + ((first | 0x20) & 0x1f);
}

function addKnown(lower: string, key: string): void {
  const fold = new Uint8Array(lower.length);
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    fold[i] = c >= 0x61 && c <= 0x7a ? 0x20 : 0;
  }
  const b = bucketOf(lower.length, lower.charCodeAt(0));
  const entry: KnownHeaderName = { key, lower, fold };
  const bucket = KNOWN_BY_SHAPE[b];
  if (bucket === undefined) KNOWN_BY_SHAPE[b] = [entry];
  else bucket.push(entry);
}

for (const key of COMMON_KEYS) addKnown(key, key);
for (const [compact, key] of Object.entries(COMPACT)) addKnown(compact, key);

/**
 * Recognises a common header name in `text[start, end)` case-insensitively (§7.3.1) without
 * slicing it; undefined for any other name (which the caller validates as a token).
 */
export function matchHeaderName(text: string, start: number, end: number): KnownHeaderName | undefined {
  const length = end - start;
  if (length > MAX_KNOWN_LENGTH || length === 0) return undefined;
  const bucket = KNOWN_BY_SHAPE[bucketOf(length, text.charCodeAt(start))];
  if (bucket === undefined) return undefined;
  for (let e = 0; e < bucket.length; e++) {
    const entry = bucket[e]!;
    const lower = entry.lower;
    const fold = entry.fold;
    let i = 0;
    // OR-ing 0x20 folds only where the name has a letter: elsewhere CR | 0x20 would read as "-".
    while (i < length && (text.charCodeAt(start + i) | fold[i]!) === lower.charCodeAt(i)) i++;
    if (i === length) return entry;
  }
  return undefined;
}

/** The canonical key of a header name: lower-cased, compact forms expanded. */
export function headerKey(name: string): string {
  const known = matchHeaderName(name, 0, name.length);
  if (known !== undefined) return known.key;
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
