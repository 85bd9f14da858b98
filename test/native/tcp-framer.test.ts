import { describe, expect, it } from "vitest";
import { TcpFramer } from "../../src/sip/native/tcp-framer.js";

const msg = (body: string) =>
  `OPTIONS sip:a@b SIP/2.0\r\nl: ${Buffer.byteLength(body)}\r\nCall-ID: x\r\n\r\n${body}`;

describe("TCP framer (RFC 3261 §18.3)", () => {
  it("splits messages on Content-Length across arbitrary chunk boundaries and skips keep-alives", () => {
    const stream = Buffer.from(`\r\n\r\n${msg("hello")}${msg("")}\r\n${msg("v=0\r\n")}`);
    for (let cut = 1; cut < stream.length; cut += 7) {
      const f = new TcpFramer(65_535);
      const out = [...f.push(stream.subarray(0, cut)), ...f.push(stream.subarray(cut))];
      expect(out.map((e) => (e.kind === "message" ? e.data.toString() : e.reason))).toEqual([
        msg("hello"),
        msg(""),
        msg("v=0\r\n"),
      ]);
    }
  });

  it("reports a missing Content-Length and an oversized message", () => {
    const f = new TcpFramer(65_535);
    const [e] = f.push(Buffer.from("OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n"));
    expect(e?.kind).toBe("error");
    const g = new TcpFramer(1500);
    const [o] = g.push(Buffer.from(msg("x".repeat(2000))));
    expect(o?.kind === "error" && o.reason).toBe("message exceeds the size limit");
  });
});
