// The parser's fast paths (in-place header name matching, the single latin1 scan that finds
// the end of the headers, run copying on serialise) must behave exactly like the general ones.
import { describe, expect, it } from "vitest";
import { parseSipMessage, SipRequest } from "../../src/sip/index.js";
import { wire } from "./fixtures/torture-messages.js";

function request(lines: string[], body: string | Buffer = ""): SipRequest {
  const r = parseSipMessage(wire(lines, body));
  if (!r.ok || !(r.message instanceof SipRequest)) throw new Error(r.ok ? "not a request" : r.error.reason);
  return r.message;
}

const mandatory = [
  "Max-Forwards: 70",
  "To: <sip:b@example.org>",
  "From: <sip:a@example.org>;tag=1",
  "Call-ID: fast@192.0.2.1",
  "CSeq: 1 OPTIONS",
];

describe("parser fast paths", () => {
  it("matches common header names in any letter case and keeps their spelling", () => {
    const m = request([
      "OPTIONS sip:b@example.org SIP/2.0",
      "vIA: SIP/2.0/udp 192.0.2.1;branch=z9hG4bK1",
      "MAX-FORWARDS: 70",
      "to: <sip:b@example.org>",
      "From: <sip:a@example.org>;TAG=1",
      "call-ID: fast@192.0.2.1",
      "CSEQ: 1 OPTIONS",
      "P-ASSERTED-identity: <sip:a@example.org>",
      "X-Unknown-Header: kept",
      "l: 0",
    ]);
    expect(m.headerFields.map((f) => [f.name, f.key])).toEqual([
      ["vIA", "via"],
      ["MAX-FORWARDS", "max-forwards"],
      ["to", "to"],
      ["From", "from"],
      ["call-ID", "call-id"],
      ["CSEQ", "cseq"],
      ["P-ASSERTED-identity", "p-asserted-identity"],
      ["X-Unknown-Header", "x-unknown-header"],
      ["l", "content-length"],
    ]);
    expect(m.topVia?.transport).toBe("UDP");
    expect(m.from?.tag).toBe("1");
    expect(m.pAssertedIdentity[0]?.uri.kind).toBe("sip");
  });

  it("does not fold non-letters when matching a name", () => {
    // "Call\rID" would equal "call-id" if CR were case-folded like a letter (CR | 0x20 is "-").
    const r = parseSipMessage(
      wire([
        "OPTIONS sip:b@example.org SIP/2.0",
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1",
        ...mandatory,
        "Call\rID: x",
      ]),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe("bad-header-line");
  });

  it("reads common parameter names in any case as lower case", () => {
    const m = request([
      "OPTIONS sip:b@example.org;USER=phone;Transport=TCP SIP/2.0",
      "Via: SIP/2.0/TCP h;BRANCH=z9hG4bK1;RPort",
      ...mandatory,
    ]);
    const uri = m.uri;
    expect(uri?.kind === "sip" && [...uri.params]).toEqual([
      ["user", "phone"],
      ["transport", "TCP"],
    ]);
    expect([m.topVia?.branch, m.topVia?.hasRport]).toEqual(["z9hG4bK1", true]);
  });

  it("ends the headers at the first empty line, bare LF or CRLF, in small and large messages", () => {
    for (const size of [10, 20_000]) {
      const body = "x".repeat(size);
      const text =
        "OPTIONS sip:b@example.org SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n" +
        mandatory.join("\r\n") +
        `\r\nContent-Length: ${size}\n\n${body}`;
      const r = parseSipMessage(Buffer.from(text, "latin1"), { maxBytes: 100_000 });
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(r.message.body.toString("latin1")).toBe(body);
      r.message.addHeader("X-Edited", "1");
      const again = parseSipMessage(r.message.serialize(), { maxBytes: 100_000 });
      expect(again.ok && again.message.body.length).toBe(size);
    }
  });

  it("reports an unterminated header section in a large message", () => {
    const text = `OPTIONS sip:b@example.org SIP/2.0\r\nSubject: ${"y".repeat(20_000)}\r\n`;
    const r = parseSipMessage(Buffer.from(text, "latin1"), { maxBytes: 100_000 });
    expect(!r.ok && r.error.code).toBe("truncated");
  });

  it("serialises edits around copied runs, keeping bytes after the body out", () => {
    const lines = ["OPTIONS sip:b@example.org SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", ...mandatory];
    const bytes = Buffer.concat([wire([...lines, "Content-Length: 3"], "abc"), Buffer.from("trailing")]);
    const r = parseSipMessage(bytes);
    if (!r.ok || !(r.message instanceof SipRequest)) throw new Error("parse");
    const m = r.message;
    m.pushVia("SIP/2.0/UDP p;branch=z9hG4bK2");
    m.decrementMaxForwards();
    m.addRecordRoute("<sip:p;lr>");
    m.requestUri = "sip:c@example.org";
    expect(m.serialize().toString("latin1")).toBe(
      [
        "OPTIONS sip:c@example.org SIP/2.0",
        "Via: SIP/2.0/UDP p;branch=z9hG4bK2",
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1",
        "Record-Route: <sip:p;lr>",
        "Max-Forwards: 69",
        ...mandatory.slice(1),
        "Content-Length: 3",
        "",
        "abc",
      ].join("\r\n"),
    );
    m.setHeader("Subject", "café");
    expect(m.serialize().includes(Buffer.from("Subject: café\r\n", "utf8"))).toBe(true);
  });
});
