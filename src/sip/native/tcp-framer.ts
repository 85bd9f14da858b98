// Splits a TCP byte stream into SIP messages (RFC 3261 §18.3): headers end at the first empty
// line and the body is exactly Content-Length bytes (mandatory over streams). CRLF keep-alives
// between messages (RFC 5626 §3.5.1) are skipped.

export type FramerEvent =
  | { readonly kind: "message"; readonly data: Buffer }
  | { readonly kind: "error"; readonly reason: string; readonly head: Buffer };

const CRLFCRLF = Buffer.from("\r\n\r\n");
const contentLengthRe = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$/im;

export class TcpFramer {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxMessageBytes: number) {}

  /** Feeds bytes; returns the complete messages (or one error, after which the stream is unusable). */
  push(chunk: Buffer): FramerEvent[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: FramerEvent[] = [];
    for (;;) {
      let start = 0;
      while (start < this.buffer.length && (this.buffer[start] === 0x0d || this.buffer[start] === 0x0a))
        start++;
      if (start > 0) this.buffer = this.buffer.subarray(start);
      if (this.buffer.length === 0) break;
      const end = this.buffer.indexOf(CRLFCRLF);
      if (end < 0) {
        if (this.buffer.length > this.maxMessageBytes)
          return [...out, this.fail("message headers exceed the size limit")];
        break;
      }
      const head = this.buffer.subarray(0, end).toString("latin1");
      const m = contentLengthRe.exec(head);
      if (m === null) return [...out, this.fail("Content-Length is mandatory over stream transports")];
      const bodyLength = Number(m[1]);
      const total = end + 4 + bodyLength;
      if (total > this.maxMessageBytes) return [...out, this.fail("message exceeds the size limit")];
      if (this.buffer.length < total) break;
      out.push({ kind: "message", data: Buffer.from(this.buffer.subarray(0, total)) });
      this.buffer = this.buffer.subarray(total);
    }
    return out;
  }

  private fail(reason: string): FramerEvent {
    const head = Buffer.from(this.buffer.subarray(0, Math.min(this.buffer.length, this.maxMessageBytes)));
    this.buffer = Buffer.alloc(0);
    return { kind: "error", reason, head };
  }
}
