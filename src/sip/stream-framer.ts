// Framing SIP messages on a stream transport (TCP/TLS, RFC 3261 §18.3): a message ends
// Content-Length bytes after the empty line, so Content-Length is mandatory. Between
// messages, CRLF keep-alives (RFC 5626 §3.5.1) are recognised: a double CRLF is a "ping" the
// transport answers with a single CRLF "pong"; a single CRLF is a pong and is ignored.
import type { SipParseErrorCode } from "./parse-error.js";

export interface StreamLimits {
  /** Largest header section in bytes (default 32,768); larger: the connection is unusable. */
  readonly maxHeaderBytes?: number;
  /** Largest number of header lines (default 256). */
  readonly maxHeaders?: number;
  /** Largest body in bytes (default 1,048,576). */
  readonly maxBodyBytes?: number;
  /** Largest whole message, header section and body together (default: no limit beyond the two). */
  readonly maxMessageBytes?: number;
}

export interface StreamFramingError {
  readonly code: Extract<
    SipParseErrorCode,
    "too-large" | "too-many-headers" | "missing-content-length" | "bad-content-length"
  >;
  readonly reason: string;
  /** 413 or 400. The stream cannot be resynchronised: answer if possible, then close it. */
  readonly status: number;
}

export type FramerEvent =
  /** One complete message; hand it to `parseSipMessage(data, { transport: "stream" })`. */
  | { readonly kind: "message"; readonly data: Buffer }
  /** CRLFCRLF received: the transport should answer with CRLF (RFC 5626 §3.5.1). */
  | { readonly kind: "ping" }
  /** A lone CRLF (a pong or stray line break): nothing to do. */
  | { readonly kind: "pong" }
  /**
   * The stream broke a framing rule. `data` holds the header section when one was read, so
   * that the edge can parse it and send a 400/413 before closing the connection.
   */
  | { readonly kind: "error"; readonly error: StreamFramingError; readonly data: Buffer | null };

const EMPTY = Buffer.alloc(0);

/** RFC 3261 §21.4.11's phrase for 413 ("Message Too Large" is 513's, §21.5.13). */
const TOO_LARGE = "Request Entity Too Large";

export class SipStreamFramer {
  /** Largest header section: its own limit, or the whole message's when smaller. */
  readonly #maxHeaderBytes: number;
  readonly #maxHeaders: number;
  readonly #maxBodyBytes: number;
  readonly #maxMessageBytes: number;
  #buf: Buffer = EMPTY;
  /** Where to resume searching for the end of the header section. */
  #scanFrom = 0;
  /** Total length of the message being read, once its headers are known. */
  #messageLength = -1;
  #failed = false;

  constructor(limits: StreamLimits = {}) {
    this.#maxHeaders = limits.maxHeaders ?? 256;
    this.#maxBodyBytes = limits.maxBodyBytes ?? 1_048_576;
    this.#maxMessageBytes = limits.maxMessageBytes ?? Number.POSITIVE_INFINITY;
    this.#maxHeaderBytes = Math.min(limits.maxHeaderBytes ?? 32_768, this.#maxMessageBytes);
  }

  /** True after a framing error: the framer ignores further input. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Bytes received but not yet returned as a message. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Adds received bytes; returns the events they complete, in order. */
  push(chunk: Buffer): FramerEvent[] {
    if (this.#failed) return [];
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const events: FramerEvent[] = [];
    for (;;) {
      const event = this.#next();
      if (event === null) break;
      events.push(event);
      if (event.kind === "error") {
        this.#failed = true;
        this.#buf = EMPTY;
        break;
      }
    }
    return events;
  }

  #consume(n: number): void {
    this.#buf = n >= this.#buf.length ? EMPTY : this.#buf.subarray(n);
    this.#scanFrom = 0;
    this.#messageLength = -1;
  }

  #next(): FramerEvent | null {
    const buf = this.#buf;
    if (this.#messageLength === -1) {
      // Keep-alives and stray line breaks between messages (§7.5 ignores CRLF before a start line).
      if (buf.length > 0 && (buf[0] === 0x0d || buf[0] === 0x0a)) {
        if (buf[0] === 0x0d && buf[1] === 0x0a) {
          if (buf.length < 4 && (buf.length === 2 || buf[2] === 0x0d)) return null; // maybe a ping: wait
          if (buf[2] === 0x0d && buf[3] === 0x0a) {
            this.#consume(4);
            return { kind: "ping" };
          }
          this.#consume(2);
          return { kind: "pong" };
        }
        if (buf.length === 1 && buf[0] === 0x0d) return null;
        this.#consume(1);
        return { kind: "pong" };
      }
      if (buf.length === 0) return null;
      const end = this.#findHeaderEnd();
      if (end === null) {
        if (buf.length > this.#maxHeaderBytes) return this.#error("too-large", TOO_LARGE, 413, null);
        return null;
      }
      const [headerEnd, bodyStart] = end;
      if (headerEnd > this.#maxHeaderBytes)
        return this.#error("too-large", TOO_LARGE, 413, buf.subarray(0, bodyStart));
      const framing = this.#contentLength(buf.toString("latin1", 0, headerEnd));
      if (typeof framing !== "number")
        return this.#error(framing.code, framing.reason, framing.status, buf.subarray(0, bodyStart));
      // The limit is on the whole message: a header section and a body each under it can
      // still add up to more (a 30 KB header with a 30 KB body against 32 KiB).
      if (framing > this.#maxBodyBytes || bodyStart + framing > this.#maxMessageBytes)
        return this.#error("too-large", TOO_LARGE, 413, buf.subarray(0, bodyStart));
      this.#messageLength = bodyStart + framing;
    }
    if (buf.length < this.#messageLength) return null;
    const data = buf.subarray(0, this.#messageLength);
    this.#consume(this.#messageLength);
    return { kind: "message", data };
  }

  #findHeaderEnd(): [number, number] | null {
    const buf = this.#buf;
    const from = Math.max(0, this.#scanFrom - 3);
    const crlf = buf.indexOf("\n\r\n", from, "latin1");
    const lf = buf.indexOf("\n\n", from, "latin1");
    this.#scanFrom = buf.length;
    if (crlf !== -1 && (lf === -1 || crlf < lf)) return [crlf + 1, crlf + 3];
    if (lf !== -1) return [lf + 1, lf + 2];
    return null;
  }

  /** The Content-Length of a header section (long or compact name, §20.14), or why it has none. */
  #contentLength(text: string): number | StreamFramingError {
    let value: number | null = null;
    let lines = 0;
    let pos = text.indexOf("\n") + 1;
    while (pos > 0 && pos < text.length) {
      const nl = text.indexOf("\n", pos);
      const lineEnd = nl === -1 ? text.length : nl;
      const c = text.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x09) {
        if (++lines > this.#maxHeaders)
          return { code: "too-many-headers", reason: "Too many header fields", status: 400 };
        const colon = text.indexOf(":", pos);
        if (colon !== -1 && colon < lineEnd) {
          const name = text.slice(pos, colon).trim().toLowerCase();
          if (name === "content-length" || name === "l") {
            const raw = text.slice(colon + 1, lineEnd).trim();
            const n = /^[0-9]{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
            if (Number.isNaN(n) || (value !== null && value !== n)) {
              return { code: "bad-content-length", reason: "Malformed Content-Length", status: 400 };
            }
            value = n;
          }
        }
      }
      pos = nl === -1 ? -1 : nl + 1;
    }
    if (value === null)
      return { code: "missing-content-length", reason: "Missing Content-Length header", status: 400 };
    return value;
  }

  #error(code: StreamFramingError["code"], reason: string, status: number, data: Buffer | null): FramerEvent {
    return { kind: "error", error: { code, reason, status }, data };
  }
}
