// Parsing the credentials of an Authorization / Proxy-Authorization header (RFC 3261 §25.1
// `credentials`, RFC 7616 §3.4): `Digest name=token|"quoted", ...`. Parsed into a plain map
// here so the verifier works on typed values; the raw header is never logged.

export interface DigestCredentials {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  readonly response: string;
  /** Upper-cased; absent means MD5 (RFC 2617 §3.2.2). */
  readonly algorithm: string;
  readonly qop: string | null;
  readonly nc: string | null;
  readonly cnonce: string | null;
  readonly opaque: string | null;
}

/** Parses one header value; null when it is not Digest credentials with the mandatory fields. */
export function parseDigestCredentials(value: string): DigestCredentials | null {
  const m = /^\s*digest\s+/i.exec(value);
  if (m === null) return null;
  const params = parseAuthParams(value.slice(m[0].length));
  if (params === null) return null;
  const username = params.get("username");
  const realm = params.get("realm");
  const nonce = params.get("nonce");
  const uri = params.get("uri");
  const response = params.get("response");
  if (
    username === undefined ||
    realm === undefined ||
    nonce === undefined ||
    uri === undefined ||
    response === undefined
  ) {
    return null;
  }
  return {
    username,
    realm,
    nonce,
    uri,
    response: response.toLowerCase(),
    algorithm: (params.get("algorithm") ?? "MD5").toUpperCase(),
    qop: params.get("qop")?.toLowerCase() ?? null,
    nc: params.get("nc") ?? null,
    cnonce: params.get("cnonce") ?? null,
    opaque: params.get("opaque") ?? null,
  };
}

/** `a=b, c="d, \"e\""` → map with lower-case names; null on a syntax error. */
function parseAuthParams(text: string): Map<string, string> | null {
  const out = new Map<string, string>();
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i] ?? "")) i++;
  };
  while (true) {
    skipSpace();
    if (i >= text.length) return out;
    const nameMatch = /^[A-Za-z0-9_.!%*+`'~-]+/.exec(text.slice(i));
    if (nameMatch === null) return null;
    const name = nameMatch[0].toLowerCase();
    i += nameMatch[0].length;
    skipSpace();
    if (text[i] !== "=") return null;
    i++;
    skipSpace();
    let value = "";
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i];
        if (c === "\\" && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) return null;
    } else {
      const tok = /^[^\s,]+/.exec(text.slice(i));
      if (tok === null) return null;
      value = tok[0];
      i += tok[0].length;
    }
    // A repeated parameter is ambiguous: refuse rather than guess which one was hashed.
    if (out.has(name)) return null;
    out.set(name, value);
    skipSpace();
    if (i >= text.length) return out;
    if (text[i] !== ",") return null;
    i++;
  }
}
