import { describe, expect, it } from "vitest";
import { type FramerEvent, parseSipMessage, SipStreamFramer } from "../../src/sip/index.js";
import { wire } from "./fixtures/torture-messages.js";

const options = (cseq: number, body = "") =>
  wire(
    [
      "OPTIONS sip:gw.example.org SIP/2.0",
      "Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKs" + cseq,
      "Max-Forwards: 70",
      "To: <sip:gw.example.org>",
      "From: <sip:probe@example.org>;tag=s",
      "Call-ID: stream@192.0.2.1",
      `CSeq: ${cseq} OPTIONS`,
      `l: ${Buffer.byteLength(body)}`,
    ],
    body,
  );

function kinds(events: FramerEvent[]): string[] {
  return events.map((e) => e.kind);
}

describe("SipStreamFramer (RFC 3261 §18.3, RFC 5626 §3.5.1)", () => {
  it("splits back-to-back messages and parses each", () => {
    const a = options(1, "hello");
    const b = options(2);
    const framer = new SipStreamFramer();
    const events = framer.push(Buffer.concat([a, b]));
    expect(kinds(events)).toEqual(["message", "message"]);
    const datas = events.flatMap((e) => (e.kind === "message" ? [e.data] : []));
    expect(datas[0]?.equals(a)).toBe(true);
    expect(datas[1]?.equals(b)).toBe(true);
    const r = parseSipMessage(datas[0]!, { transport: "stream" });
    expect(r.ok && r.message.body.toString()).toBe("hello");
    expect(framer.buffered).toBe(0);
  });

  it("reassembles a message delivered one byte at a time", () => {
    const msg = options(3, "0123456789");
    const framer = new SipStreamFramer();
    const events: FramerEvent[] = [];
    for (let i = 0; i < msg.length; i++) events.push(...framer.push(msg.subarray(i, i + 1)));
    expect(kinds(events)).toEqual(["message"]);
    expect(events[0]?.kind === "message" && events[0].data.equals(msg)).toBe(true);
  });

  it("reports CRLFCRLF pings and ignores lone CRLF pongs between messages", () => {
    const framer = new SipStreamFramer();
    expect(kinds(framer.push(Buffer.from("\r\n\r\n")))).toEqual(["ping"]);
    expect(kinds(framer.push(Buffer.from("\r\n")))).toEqual([]);
    expect(kinds(framer.push(Buffer.from("\r\n")))).toEqual(["ping"]);
    expect(kinds(framer.push(Buffer.concat([Buffer.from("\r\n"), options(4)])))).toEqual(["pong", "message"]);
  });

  it("fails on a missing Content-Length and hands over the headers for a 400", () => {
    const framer = new SipStreamFramer();
    const noLength = Buffer.from(options(5).toString().replace("l: 0\r\n", ""));
    const events = framer.push(noLength);
    expect(kinds(events)).toEqual(["error"]);
    const e = events[0];
    if (e?.kind !== "error") return;
    expect(e.error.code).toBe("missing-content-length");
    const r = parseSipMessage(e.data!, { transport: "stream" });
    expect(!r.ok && r.error.canRespond).toBe(true);
    expect(framer.failed).toBe(true);
    expect(framer.push(options(6))).toEqual([]);
  });

  it("enforces header, header-count and body limits", () => {
    const tooLong = new SipStreamFramer({ maxHeaderBytes: 200 });
    expect(tooLong.push(Buffer.from("OPTIONS sip:x SIP/2.0\r\nX: " + "a".repeat(300)))[0]).toMatchObject({
      kind: "error",
      error: { code: "too-large", status: 413 },
    });
    const body = new SipStreamFramer({ maxBodyBytes: 4 });
    expect(body.push(options(7, "12345"))[0]).toMatchObject({ kind: "error", error: { code: "too-large" } });
    const count = new SipStreamFramer({ maxHeaders: 5 });
    expect(count.push(options(8))[0]).toMatchObject({ kind: "error", error: { code: "too-many-headers" } });
    // maxMessageBytes bounds header section and body together.
    const total = new SipStreamFramer({ maxMessageBytes: options(10).length + 4 });
    expect(total.push(options(10, "1234"))[0]).toMatchObject({ kind: "message" });
    expect(total.push(options(11, "12345"))[0]).toMatchObject({
      kind: "error",
      error: { code: "too-large", status: 413, reason: "Request Entity Too Large" },
    });
    const conflicting = new SipStreamFramer();
    const twice = Buffer.from(options(9).toString().replace("l: 0\r\n", "l: 0\r\nContent-Length: 3\r\n"));
    expect(conflicting.push(twice)[0]).toMatchObject({
      kind: "error",
      error: { code: "bad-content-length" },
    });
  });
});
