// Parsing a SIP message from bytes (RFC 3261 §7, §18.3, §20, grammar §25).
//
// The parser indexes the header section in one pass over a latin1 view of the bytes (one
// character per byte, so string offsets are byte offsets and non-UTF-8 octets survive), checks
// the headers every SIP element needs, and leaves every other header unparsed until asked.
import { isDigit, isWs, TOKEN } from "./char-classes.js";
import { HeaderField } from "./header-field.js";
import { headerKey, matchHeaderName } from "./header-names.js";
import type { SipParseError, SipParseErrorCode } from "./parse-error.js";
import { SipRequest } from "./sip-request.js";
import { SipResponse } from "./sip-response.js";
import { isToken, nulsOnlyInQuotedPairs, parseBoundedInt } from "./text-scan.js";
import { parseUri, type Uri } from "./uri.js";

export interface ParseOptions {
  /** Largest accepted message in bytes (default 65,535, the largest UDP payload). Larger: 413. */
  readonly maxBytes?: number;
  /** Largest number of header field lines (default 256). */
  readonly maxHeaders?: number;
  /** `stream` (TCP/TLS) makes Content-Length mandatory (§18.3); default `datagram`. */
  readonly transport?: "datagram" | "stream";
  /**
   * Reject requests without Max-Forwards (default false). §8.1.1 makes it mandatory for a
   * UAC, but RFC 2543 had no such header: a proxy passes the §16.3 check without one and adds
   * `Max-Forwards: 70` when it forwards (§16.6 step 3; RFC 4475 §3.4.1).
   */
  readonly requireMaxForwards?: boolean;
}

export type ParseResult =
  | { readonly ok: true; readonly message: SipRequest | SipResponse }
  | { readonly ok: false; readonly error: SipParseError };

const DEFAULT_MAX_BYTES = 65_535;
const DEFAULT_MAX_HEADERS = 256;

interface Problem {
  readonly code: SipParseErrorCode;
  readonly reason: string;
  readonly header: string | null;
  readonly status: number;
}

function problem(
  code: SipParseErrorCode,
  reason: string,
  header: string | null = null,
  status = 400,
): Problem {
  return { code, reason, header, status };
}

/** Request-line: Method SP Request-URI SP SIP-Version; Status-Line: SIP-Version SP Status-Code SP Reason-Phrase. */
interface StartLine {
  readonly isRequest: boolean | null;
  readonly method: string;
  readonly requestUri: string;
  readonly status: number;
  readonly reason: string;
  readonly problem: Problem | null;
  /** The parsed Request-URI, when it was valid. */
  readonly uri?: Uri;
}

/** "SIP/2.0" compared case-insensitively (§7.1); other well-formed versions give 505. */
function checkVersion(v: string): Problem | null {
  if (v.length === 7 && v.toUpperCase() === "SIP/2.0") return null;
  if (/^SIP\/[0-9]{1,5}\.[0-9]{1,5}$/i.test(v)) {
    return problem("unsupported-version", "SIP Version Not Supported", null, 505);
  }
  return problem("bad-start-line", "Malformed SIP version");
}

function decodeText(data: Buffer, text: string, from: number, to: number): string {
  for (let i = from; i < to; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      const utf8 = data.toString("utf8", from, to);
      return utf8.includes("\uFFFD") ? text.slice(from, to) : utf8;
    }
  }
  return text.slice(from, to);
}

function parseStartLine(data: Buffer, text: string, end: number): StartLine {
  if (end > 4 && text.slice(0, 4).toUpperCase() === "SIP/") {
    const sp = text.indexOf(" ", 0);
    const bad = (p: Problem): StartLine => ({
      isRequest: false,
      method: "",
      requestUri: "",
      status: 0,
      reason: "",
      problem: p,
    });
    if (sp === -1 || sp > end) return bad(problem("bad-start-line", "Malformed status line"));
    const versionProblem = checkVersion(text.slice(0, sp));
    if (versionProblem !== null) return bad(versionProblem);
    // Status-Code = 3DIGIT (§25.1), 100..699; anything longer (RFC 4475 §3.1.2.19) is malformed.
    const c0 = text.charCodeAt(sp + 1);
    const c1 = text.charCodeAt(sp + 2);
    const c2 = text.charCodeAt(sp + 3);
    if (
      sp + 4 > end ||
      !isDigit(c0) ||
      !isDigit(c1) ||
      !isDigit(c2) ||
      (sp + 4 < end && text.charCodeAt(sp + 4) !== 0x20)
    ) {
      return bad(problem("bad-status-code", "Malformed status code"));
    }
    const status = (c0 - 0x30) * 100 + (c1 - 0x30) * 10 + (c2 - 0x30);
    if (status < 100 || status > 699) return bad(problem("bad-status-code", "Status code out of range"));
    const reason = sp + 5 <= end ? decodeText(data, text, sp + 5, end) : "";
    return { isRequest: false, method: "", requestUri: "", status, reason, problem: null };
  }
  const sp1 = text.indexOf(" ");
  const method = sp1 === -1 || sp1 > end ? "" : text.slice(0, sp1);
  if (!isToken(method)) {
    return {
      isRequest: null,
      method: "",
      requestUri: "",
      status: 0,
      reason: "",
      problem: problem("bad-start-line", "Malformed request line"),
    };
  }
  const sp2 = text.indexOf(" ", sp1 + 1);
  const requestUri = sp2 === -1 || sp2 > end ? "" : text.slice(sp1 + 1, sp2);
  const version = sp2 === -1 || sp2 > end ? "" : text.slice(sp2 + 1, end);
  const result = (p: Problem | null): StartLine => ({
    isRequest: true,
    method,
    requestUri,
    status: 0,
    reason: "",
    problem: p,
  });
  // Exactly one SP between the elements and none after (RFC 4475 §3.1.2.9, §3.1.2.10).
  if (
    requestUri.length === 0 ||
    version.length === 0 ||
    version.indexOf(" ") !== -1 ||
    version.indexOf("\t") !== -1
  ) {
    return result(problem("bad-start-line", "Malformed request line"));
  }
  const versionProblem = checkVersion(version);
  if (versionProblem !== null) return result(versionProblem);
  const uri = parseUri(requestUri);
  if (uri === undefined) return result(problem("bad-request-uri", "Malformed Request-URI"));
  // Table 1 of §19.1.1: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
  if (uri.kind === "sip" && uri.headers.size > 0) {
    return result(problem("bad-request-uri", "Request-URI must not contain headers"));
  }
  return { isRequest: true, method, requestUri, status: 0, reason: "", problem: null, uri };
}

/**
 * Messages up to this size are decoded whole, and the line scan finds the empty line that ends
 * the header section itself. Larger ones are searched as bytes first, so a big body is never
 * decoded.
 */
const WHOLE_DECODE_LIMIT = 8192;
const CRLF_EMPTY_LINE = Buffer.from("\n\r\n", "latin1");
const LF_EMPTY_LINE = Buffer.from("\n\n", "latin1");

/** Offset of the body in a large message: after the first CRLF CRLF or LF LF, or -1. */
function findBodyStart(data: Buffer): number {
  const crlf = data.indexOf(CRLF_EMPTY_LINE);
  const lf = crlf === -1 ? data.indexOf(LF_EMPTY_LINE) : data.lastIndexOf(LF_EMPTY_LINE, crlf);
  if (lf !== -1) return (crlf === -1 ? lf : data.indexOf(LF_EMPTY_LINE)) + 2;
  return crlf === -1 ? -1 : crlf + 3;
}

/** Parses one SIP message. Never throws: every failure is returned as a `SipParseError`. */
export function parseSipMessage(data: Buffer, options: ParseOptions = {}): ParseResult {
  try {
    return parse(data, options);
  } catch {
    const error: SipParseError = {
      code: "internal",
      reason: "Unparsable message",
      header: null,
      status: 400,
      canRespond: false,
      isRequest: null,
      partial: null,
    };
    return { ok: false, error };
  }
}

function parse(input: Buffer, options: ParseOptions): ParseResult {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxHeaders = options.maxHeaders ?? DEFAULT_MAX_HEADERS;
  const stream = options.transport === "stream";

  // CRLFs before the start line are ignored (§7.5); a datagram of only CRLF is a keep-alive.
  let skip = 0;
  while (skip < input.length && (input[skip] === 0x0d || input[skip] === 0x0a)) skip++;
  const data = skip === 0 ? input : input.subarray(skip);
  if (data.length === 0) return fail(problem("empty", "Empty message"), null, null, null);

  // `text` is a latin1 view (one character per byte, so string offsets are byte offsets)
  // covering at least the header section and its empty line, or the whole message when it
  // has none.
  let textEnd = data.length;
  if (data.length > WHOLE_DECODE_LIMIT) {
    const b = findBodyStart(data);
    if (b !== -1) textEnd = b;
  }
  const text = data.toString("latin1", 0, textEnd);

  // The start line ends at the first LF. Then header lines: a line starting with SP/HTAB
  // continues the previous one (§7.3.1), and the first empty line (CRLF, or a bare LF,
  // leniently: §7.5 says CRLF) ends the section.
  let startEnd = text.indexOf("\n");
  if (startEnd === -1) startEnd = text.length;
  const startLineEnd = Math.min(startEnd + 1, text.length);
  const startTextEnd = startEnd > 0 && text.charCodeAt(startEnd - 1) === 0x0d ? startEnd - 1 : startEnd;

  const fields: HeaderField[] = [];
  const wireText = { src: data, text };
  const index = new HeaderIndex();
  let lineProblem: Problem | null = null;
  let headerEnd = -1;
  let bodyStart = -1;
  let pos = startLineEnd;
  while (pos < text.length) {
    const c0 = text.charCodeAt(pos);
    if (c0 === 0x0a) {
      headerEnd = pos;
      bodyStart = pos + 1;
      break;
    }
    if (c0 === 0x0d && text.charCodeAt(pos + 1) === 0x0a) {
      headerEnd = pos;
      bodyStart = pos + 2;
      break;
    }
    const lineStart = pos;
    let nl = text.indexOf("\n", pos);
    let lineEnd = nl === -1 ? text.length : nl + 1;
    let folded = false;
    while (lineEnd < text.length && isWs(text.charCodeAt(lineEnd))) {
      folded = true;
      nl = text.indexOf("\n", lineEnd);
      lineEnd = nl === -1 ? text.length : nl + 1;
    }
    pos = lineEnd;
    if (fields.length >= maxHeaders) {
      // Keep walking to the empty line (so the limits below still see the sizes), but build nothing.
      lineProblem ??= problem("too-many-headers", "Too many header fields");
      continue;
    }
    const colon = text.indexOf(":", lineStart);
    let nameEnd = colon;
    while (nameEnd > lineStart && isWs(text.charCodeAt(nameEnd - 1))) nameEnd--;
    if (colon === -1 || colon >= lineEnd || nameEnd === lineStart) {
      lineProblem ??= problem("bad-header-line", "Malformed header line");
      continue;
    }
    // A common name (any letter case) needs neither validation nor a lower-cased copy; the
    // field slices its spelling only if someone asks for it.
    const known = matchHeaderName(text, lineStart, nameEnd);
    let name: string | undefined;
    let key: string;
    if (known !== undefined) {
      key = known.key;
      index.add(key);
    } else {
      let nameOk = true;
      for (let i = lineStart; nameOk && i < nameEnd; i++) {
        const c = text.charCodeAt(i);
        if (c > 255 || TOKEN[c] !== 1) nameOk = false;
      }
      if (!nameOk) {
        lineProblem ??= problem("bad-header-line", "Malformed header line");
        continue;
      }
      name = text.slice(lineStart, nameEnd);
      key = headerKey(name);
    }
    let valueStart = colon + 1;
    let valueEnd = lineEnd;
    while (valueStart < valueEnd && isLwsChar(text.charCodeAt(valueStart))) valueStart++;
    while (valueEnd > valueStart && isLwsChar(text.charCodeAt(valueEnd - 1))) valueEnd--;
    fields.push(
      new HeaderField(
        name,
        key,
        undefined,
        wireText,
        lineStart,
        lineEnd,
        valueStart,
        valueEnd,
        folded,
        nameEnd,
      ),
    );
  }

  // Problems in order of precedence: size, framing, NUL, start line, header lines.
  let firstProblem: Problem | null = null;
  if (headerEnd === -1) {
    headerEnd = data.length;
    bodyStart = data.length;
    firstProblem = problem("truncated", "Header section not terminated");
  }
  // Any message over the limit, header or body, is answered 413 (README, "Limits") with the
  // §21.4.11 phrase; "Message Too Large" is the phrase of another status, 513 (§21.5.13).
  if (headerEnd > maxBytes) firstProblem = problem("too-large", "Request Entity Too Large", null, 413);
  const nul = text.indexOf("\0");
  if (nul !== -1 && nul < headerEnd && !nulsInQuotedPairs(text, fields, nul, startLineEnd, headerEnd))
    firstProblem ??= problem("nul-byte", "NUL byte in header section");
  const start = parseStartLine(data, text, startTextEnd);
  firstProblem ??= start.problem ?? lineProblem;

  // Body by Content-Length (§18.3, §20.14).
  let bodyLength = data.length - bodyStart;
  const contentLengthCount = index.contentLength;
  const contentLengthField =
    contentLengthCount > 0 ? fields.find((f) => f.key === "content-length") : undefined;
  if (contentLengthField !== undefined) {
    const cl = parseBoundedInt(contentLengthField.value, Number.MAX_SAFE_INTEGER);
    if (cl === undefined)
      firstProblem ??= problem("bad-content-length", "Malformed Content-Length", "Content-Length");
    else if (cl > data.length - bodyStart) {
      firstProblem ??= problem(
        "bad-content-length",
        "Content-Length larger than the message",
        "Content-Length",
      );
    } else bodyLength = cl;
  } else if (stream) {
    firstProblem ??= problem("missing-content-length", "Missing Content-Length header", "Content-Length");
  }
  if (bodyStart + bodyLength > maxBytes)
    firstProblem ??= problem("too-large", "Request Entity Too Large", null, 413);
  if (contentLengthCount > 1)
    firstProblem ??= problem("duplicate-header", "Multiple Content-Length headers", "Content-Length");

  const bodyEnd = bodyStart + bodyLength;
  const wire = {
    src: bodyEnd === data.length ? data : data.subarray(0, bodyEnd),
    startLineEnd,
    headerEnd,
    bodyStart,
  };
  const message =
    start.isRequest === false
      ? new SipResponse(start.status, start.reason, fields, null, wire)
      : new SipRequest(start.method, start.requestUri, fields, null, wire, start.uri ?? null);

  if (firstProblem === null && start.isRequest !== null) {
    firstProblem = checkHeaders(message, index, options.requireMaxForwards ?? false);
  }
  if (firstProblem === null) return { ok: true, message };
  return fail(firstProblem, start.isRequest, message instanceof SipRequest ? message : null, start.method);
}

/**
 * Whether every NUL before `headerEnd`, the first at `nul`, is inside a header value as the
 * character of a quoted-pair (§25.1), where it is legal. Only runs when a NUL was found.
 */
function nulsInQuotedPairs(
  text: string,
  fields: readonly HeaderField[],
  nul: number,
  startLineEnd: number,
  headerEnd: number,
): boolean {
  if (nul < startLineEnd) return false;
  for (const f of fields) {
    if (nul === -1 || nul >= headerEnd) return true;
    if (nul >= f.lineEnd) continue;
    // Before this field's value: in a header line that was not kept, or in this one's name.
    if (nul < f.valueStart || !nulsOnlyInQuotedPairs(text, f.valueStart, f.valueEnd)) return false;
    nul = text.indexOf("\0", f.lineEnd);
  }
  return nul === -1 || nul >= headerEnd;
}

function isLwsChar(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/**
 * Counts of the header fields the parser checks, gathered during the scan. Every counted name
 * is one `matchHeaderName` recognises, so other names are never offered.
 */
class HeaderIndex {
  via = 0;
  from = 0;
  to = 0;
  callId = 0;
  cseq = 0;
  maxForwards = 0;
  contentLength = 0;
  contentType = 0;
  contact = 0;
  route = 0;
  expires = 0;

  add(key: string): void {
    switch (key) {
      case "via":
        this.via++;
        break;
      case "from":
        this.from++;
        break;
      case "to":
        this.to++;
        break;
      case "call-id":
        this.callId++;
        break;
      case "cseq":
        this.cseq++;
        break;
      case "max-forwards":
        this.maxForwards++;
        break;
      case "content-length":
        this.contentLength++;
        break;
      case "content-type":
        this.contentType++;
        break;
      case "contact":
        this.contact++;
        break;
      case "route":
        this.route++;
        break;
      case "expires":
        this.expires++;
        break;
    }
  }
}

/** The headers every message needs (§8.1.1, §20), and the grammar of the ones a proxy relies on. */
function checkHeaders(
  m: SipRequest | SipResponse,
  ix: HeaderIndex,
  requireMaxForwards: boolean,
): Problem | null {
  const duplicate = (name: string) => problem("duplicate-header", `Multiple ${name} headers`, name);
  // Single-instance headers (RFC 4475 §3.3.8); Content-Length was checked with the body.
  if (ix.from > 1) return duplicate("From");
  if (ix.to > 1) return duplicate("To");
  if (ix.callId > 1) return duplicate("Call-ID");
  if (ix.cseq > 1) return duplicate("CSeq");
  if (ix.maxForwards > 1) return duplicate("Max-Forwards");
  if (ix.contentType > 1) return duplicate("Content-Type");
  const missing = (name: string) => problem("missing-header", `Missing ${name} header`, name);
  const bad = (name: string) => problem("bad-header", `Malformed ${name} header`, name);
  if (ix.via === 0) return missing("Via");
  if (m.viaHops === undefined) return bad("Via");
  if (ix.to === 0) return missing("To");
  if (m.to === undefined) return bad("To");
  if (ix.from === 0) return missing("From");
  if (m.from === undefined) return bad("From");
  if (ix.callId === 0) return missing("Call-ID");
  if (m.callId === undefined) return bad("Call-ID");
  if (ix.cseq === 0) return missing("CSeq");
  const cseq = m.cseq;
  if (cseq === undefined) return bad("CSeq");
  if (m instanceof SipRequest) {
    if (ix.maxForwards === 0) {
      if (requireMaxForwards) return missing("Max-Forwards");
    } else if (m.maxForwards === undefined) return bad("Max-Forwards");
    // §8.2 / RFC 4475 §3.1.2.17: the CSeq method must match the request method (ACK and
    // CANCEL carry the method they name, so this holds for them too).
    if (cseq.method !== m.method)
      return problem("cseq-method-mismatch", "CSeq method does not match request method", "CSeq");
    if (ix.route > 0 && m.routes.length !== m.headers("route").length) return bad("Route");
  }
  if (ix.contact > 0 && m.contact === undefined) return bad("Contact");
  if (ix.expires > 0 && m.expires === undefined) return bad("Expires");
  return null;
}

function fail(
  p: Problem,
  isRequest: boolean | null,
  partial: SipRequest | null,
  method: string | null,
): ParseResult {
  // A Via that does not parse still lets the response go back where the request came from
  // (RFC 4475 §3.1.2.1 expects a 400 to a request whose Via has empty parameters).
  const hasVia = partial?.hasHeader("via") === true;
  const error: SipParseError = {
    ...p,
    canRespond: isRequest === true && hasVia && method !== "ACK" && p.code !== "empty",
    isRequest,
    partial,
  };
  return { ok: false, error };
}
