import { describe, expect, it } from "vitest";
import {
  createRequest,
  createResponse,
  parseSipMessage,
  SipRequest,
  SipResponse,
} from "../../src/sip/index.js";
import { wire } from "./fixtures/torture-messages.js";

function request(lines: string[]): SipRequest {
  const r = parseSipMessage(wire(lines));
  if (!r.ok || !(r.message instanceof SipRequest)) throw new Error("parse");
  return r.message;
}

const inviteLines = [
  "INVITE sip:bob@example.org SIP/2.0",
  "Via: SIP/2.0/UDP p1.example.org;branch=z9hG4bK1, SIP/2.0/UDP ua.example.org;branch=z9hG4bK0",
  "Record-Route: <sip:p1.example.org;lr>",
  "Max-Forwards: 69",
  "To: Bob <sip:bob@example.org>",
  "From: Alice <sip:alice@example.org>;tag=a1",
  "Call-ID: build-1@ua.example.org",
  "CSeq: 3 INVITE",
  "Timestamp: 54.2",
  "Content-Length: 0",
];

describe("createResponse (RFC 3261 §8.2.6)", () => {
  it("copies Via, From, To, Call-ID, CSeq and adds a To tag", () => {
    const req = request(inviteLines);
    const res = createResponse(req, 486, "Busy Here", { toTag: "t9", headers: [["Retry-After", "30"]] });
    const r = parseSipMessage(res.serialize());
    if (!r.ok || !(r.message instanceof SipResponse)) throw new Error("parse");
    const m = r.message;
    expect([m.status, m.reason]).toEqual([486, "Busy Here"]);
    expect(m.viaHops?.map((v) => v.branch)).toEqual(["z9hG4bK1", "z9hG4bK0"]);
    expect(m.to?.tag).toBe("t9");
    expect(m.from?.tag).toBe("a1");
    expect(m.callId).toBe("build-1@ua.example.org");
    expect(m.cseq).toEqual({ seq: 3, method: "INVITE" });
    expect(m.header("retry-after")).toBe("30");
    expect(m.hasHeader("record-route")).toBe(false);
    expect(m.hasHeader("timestamp")).toBe(false);
    expect(m.contentLength).toBe(0);
  });

  it("adds no To tag to 100 Trying, copies Timestamp there", () => {
    const res = createResponse(request(inviteLines), 100, "Trying");
    expect(res.to?.tag).toBeNull();
    expect(res.header("timestamp")).toBe("54.2");
  });

  it("keeps an existing To tag and generates one when none is given", () => {
    const tagged = request(
      inviteLines.map((l) => (l.startsWith("To:") ? "To: <sip:bob@example.org>;tag=keep" : l)),
    );
    expect(createResponse(tagged, 200, "OK").to?.tag).toBe("keep");
    const fresh = createResponse(request(inviteLines), 404, "Not Found").to?.tag;
    expect(fresh).toMatch(/^[0-9a-f]{8,}$/);
  });

  it("copies Record-Route into 18x/2xx of dialog-creating requests (§12.1.1)", () => {
    const res = createResponse(request(inviteLines), 180, "Ringing", { toTag: "r" });
    expect(res.recordRoutes.map((r) => r.uriText)).toEqual(["sip:p1.example.org;lr"]);
  });

  it("answers a parse error from its partial request", () => {
    const r = parseSipMessage(wire(inviteLines.map((l) => (l.startsWith("CSeq") ? "CSeq: 3 BYE" : l))));
    if (r.ok || r.error.partial === null) throw new Error("expected a partial");
    expect(r.error.canRespond).toBe(true);
    const res = createResponse(r.error.partial, r.error.status, r.error.reason, { toTag: "e" });
    const again = parseSipMessage(res.serialize());
    expect(again.ok).toBe(true);
    expect(res.startLine()).toBe("SIP/2.0 400 CSeq method does not match request method");
  });

  it("adds a To tag to a To whose display name holds quoted-pairs of control characters, NUL too", () => {
    const to = 'To: "ctl \\\u0000\\\u0007 end" <sip:bob@example.org>';
    const req = request(inviteLines.map((l) => (l.startsWith("To:") ? to : l)));
    const res = createResponse(req, 486, "Busy Here", { toTag: "q1" });
    const again = parseSipMessage(res.serialize());
    if (!again.ok) throw new Error(again.error.reason);
    expect(again.message.to?.tag).toBe("q1");
    expect(again.message.to?.displayName).toBe("ctl \u0000\u0007 end");
  });

  it("answers a request whose Via does not parse, by its source (RFC 4475 §3.1.2.1)", () => {
    const r = parseSipMessage(
      wire(inviteLines.map((l) => (l.startsWith("Via:") ? "Via: SIP/2.0/UDP ua.example.org;;,;,," : l))),
    );
    if (r.ok || r.error.partial === null) throw new Error("expected a partial");
    expect([r.error.code, r.error.header, r.error.canRespond]).toEqual(["bad-header", "Via", true]);
    expect(r.error.partial.topVia).toBeUndefined();
    const res = createResponse(r.error.partial, r.error.status, r.error.reason);
    expect(res.toString()).toContain("Via: SIP/2.0/UDP ua.example.org;;,;,,\r\n");
  });

  it("rejects impossible status codes and reason phrases", () => {
    expect(() => createResponse(request(inviteLines), 99, "x")).toThrow(RangeError);
    expect(() => createResponse(request(inviteLines), 400, "a\r\nb")).toThrow(RangeError);
  });
});

describe("createRequest", () => {
  it("builds a CANCEL that parses back", () => {
    const req = createRequest({
      method: "CANCEL",
      requestUri: "sip:bob@gw.example.org",
      via: ["SIP/2.0/UDP p1.example.org;branch=z9hG4bKc1"],
      from: "<sip:alice@example.org>;tag=a1",
      to: "<sip:bob@example.org>",
      callId: "c-1@example.org",
      cseq: 3,
      route: ["<sip:next.example.org;lr>"],
      headers: [["Reason", 'SIP;cause=200;text="Call completed elsewhere"']],
    });
    const r = parseSipMessage(req.serialize());
    if (!r.ok || !(r.message instanceof SipRequest)) throw new Error(r.ok ? "type" : r.error.reason);
    expect(r.message.method).toBe("CANCEL");
    expect(r.message.maxForwards).toBe(70);
    expect(r.message.cseq).toEqual({ seq: 3, method: "CANCEL" });
    expect(r.message.routes[0]?.uriText).toBe("sip:next.example.org;lr");
    expect(r.message.reasons[0]).toMatchObject({
      protocol: "SIP",
      cause: 200,
      text: "Call completed elsewhere",
    });
  });

  it("copies a From or To with a quoted-pair NUL, but refuses a NUL or line break anywhere else", () => {
    const via = ["SIP/2.0/UDP p1.example.org;branch=z9hG4bKn1"];
    const spec = { method: "ACK", requestUri: "sip:a@b", via, to: "<sip:a@b>", callId: "x", cseq: 1 };
    const from = '"nul \\\u0000 inside" <sip:a@b>;tag=1';
    const ack = createRequest({ ...spec, from });
    expect(ack.from?.displayName).toBe("nul \u0000 inside");
    expect(parseSipMessage(ack.serialize()).ok).toBe(true);
    expect(() => createRequest({ ...spec, from: '"nul \u0000 bare" <sip:a@b>' })).toThrow(RangeError);
    expect(() => createRequest({ ...spec, from: "<sip:a@b>;tag=\\\u0000" })).toThrow(RangeError);
    expect(() => createRequest({ ...spec, from: '"cr \\\r\nX: y" <sip:a@b>' })).toThrow(RangeError);
    expect(() => createRequest({ ...spec, from, callId: "x\u0000y" })).toThrow(RangeError);
    expect(() => createRequest({ ...spec, from, requestUri: 'sip:a"\\\u0000"@b' })).toThrow(RangeError);
  });

  it("rejects a bad method or CSeq", () => {
    const spec = { requestUri: "sip:a@b", via: [], from: "<sip:a@b>", to: "<sip:a@b>", callId: "x", cseq: 1 };
    expect(() => createRequest({ ...spec, method: "OPT IONS" })).toThrow(RangeError);
    expect(() => createRequest({ ...spec, method: "OPTIONS", cseq: 2 ** 31 })).toThrow(RangeError);
  });
});
