import { describe, expect, it } from "vitest";
import { parseSipMessage, SipRequest } from "../../src/sip/index.js";
import { wire } from "./fixtures/torture-messages.js";

const sdp =
  "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

function invite(extra: string[] = []): SipRequest {
  const bytes = wire(
    [
      "INVITE sip:+15550100@proxy.example.org;user=phone SIP/2.0",
      "v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa, SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKb;received=192.0.2.99",
      "Max-Forwards: 5",
      "Route: <sip:proxy.example.org;lr>, <sip:next.example.org;lr>",
      "Record-Route: <sip:upstream.example.org;lr>",
      "To: <sip:+15550100@proxy.example.org;user=phone>",
      "From: Caller <sip:caller@example.org>;tag=f1",
      "Call-ID: edits-1@192.0.2.1",
      "CSeq: 10 INVITE",
      "X-Custom: one",
      "x-custom: two",
      ...extra,
      "Content-Type: application/sdp",
      `Content-Length: ${sdp.length}`,
    ],
    sdp,
  );
  const r = parseSipMessage(bytes);
  if (!r.ok || !(r.message instanceof SipRequest)) throw new Error("parse");
  return r.message;
}

function reparse(m: SipRequest): SipRequest {
  const r = parseSipMessage(m.serialize());
  if (!r.ok || !(r.message instanceof SipRequest)) throw new Error(r.ok ? "not a request" : r.error.reason);
  return r.message;
}

describe("proxy edits (RFC 3261 §16.6)", () => {
  it("returns the very same bytes when nothing changed", () => {
    const m = invite();
    expect(m.serialize()).toBe(m.serialize());
    void m.viaHops;
    void m.routes;
    expect(m.headers("via")).toHaveLength(2);
  });

  it("pushes and pops Via values, splitting a multi-value line", () => {
    const m = invite();
    m.pushVia("SIP/2.0/UDP proxy.example.org;branch=z9hG4bKp1");
    expect(m.topVia?.branch).toBe("z9hG4bKp1");
    expect(m.popVia()).toBe("SIP/2.0/UDP proxy.example.org;branch=z9hG4bKp1");
    expect(m.popVia()).toBe("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa");
    const out = reparse(m);
    expect(out.viaHops?.map((v) => v.branch)).toEqual(["z9hG4bKb"]);
    expect(out.topVia?.received).toBe("192.0.2.99");
    expect(out.serialize().toString()).toContain(
      "v: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKb;received=192.0.2.99\r\n",
    );
  });

  it("decrements Max-Forwards, adds 70 when absent, never goes below 0", () => {
    const m = invite();
    expect(m.decrementMaxForwards()).toBe(4);
    expect(reparse(m).maxForwards).toBe(4);
    m.removeHeader("Max-Forwards");
    expect(m.decrementMaxForwards()).toBe(70);
    m.setHeader("Max-Forwards", "0");
    expect(m.decrementMaxForwards()).toBe(0);
  });

  it("prepends Record-Route and removes the first Route", () => {
    const m = invite();
    m.addRecordRoute("<sip:proxy.example.org;lr>");
    expect(m.removeFirstRoute()).toBe("<sip:proxy.example.org;lr>");
    const out = reparse(m);
    expect(out.recordRoutes.map((r) => r.uriText)).toEqual([
      "sip:proxy.example.org;lr",
      "sip:upstream.example.org;lr",
    ]);
    expect(out.routes.map((r) => r.uriText)).toEqual(["sip:next.example.org;lr"]);
    expect(out.removeFirstRoute()).toBe("<sip:next.example.org;lr>");
    expect(out.removeFirstRoute()).toBeUndefined();
    expect(reparse(out).hasHeader("route")).toBe(false);
  });

  it("adds Record-Route after the Vias when there is none", () => {
    const m = invite();
    m.removeHeader("record-route");
    m.addRecordRoute("<sip:p.example.org;lr>");
    const names = reparse(m).headerFields.map((f) => f.key);
    expect(names.slice(0, 3)).toEqual(["via", "record-route", "max-forwards"]);
  });

  it("rewrites only the request line for a new Request-URI", () => {
    const m = invite();
    const before = m.serialize();
    m.requestUri = "sip:+15550100@gw.example.net:5061;user=phone";
    const after = m.serialize();
    expect(after.toString()).toMatch(/^INVITE sip:\+15550100@gw\.example\.net:5061;user=phone SIP\/2\.0\r\n/);
    const cut = (b: Buffer) => b.subarray(b.indexOf("\r\n") + 2);
    expect(cut(after).equals(cut(before))).toBe(true);
    expect(m.uri).toMatchObject({ host: "gw.example.net", port: 5061 });
  });

  it("adds, sets and removes headers by any spelling", () => {
    const m = invite();
    m.addHeader("P-Asserted-Identity", "<sip:+15550199@example.org>");
    m.addHeader("X-First", "top", { first: true });
    expect(m.headers("X-CUSTOM")).toEqual(["one", "two"]);
    m.setHeader("x-custom", "only");
    expect(m.removeHeader("Content-Type")).toBe(1);
    const out = reparse(m);
    expect(out.headerFields[0]?.name).toBe("X-First");
    expect(out.headers("x-custom")).toEqual(["only"]);
    expect(out.pAssertedIdentity[0]?.uriText).toBe("sip:+15550199@example.org");
    expect(out.hasHeader("c")).toBe(false);
    expect(out.body.toString()).toBe(sdp);
  });

  it("recomputes Content-Length only when the body changes", () => {
    const m = invite();
    m.setBody("v=0\r\n", "application/sdp");
    const out = reparse(m);
    expect(out.contentLength).toBe(5);
    expect(out.body.toString()).toBe("v=0\r\n");
    m.setBody(Buffer.alloc(0));
    expect(reparse(m).hasHeader("content-type")).toBe(false);
  });

  it("refuses header injection", () => {
    const m = invite();
    expect(() => m.addHeader("X-Evil", "a\r\nVia: SIP/2.0/UDP evil")).toThrow(RangeError);
    expect(() => m.addHeader("Bad Name", "x")).toThrow(RangeError);
    expect(() => m.setRequestUri("sip:a@b SIP/2.0\r\nX: y")).toThrow(RangeError);
    expect(() => m.pushVia("SIP/2.0/UDP x\nVia: y")).toThrow(RangeError);
  });

  it("clones for independent per-target edits (§16.6 step 1)", () => {
    const m = invite();
    const a = m.clone();
    const b = m.clone();
    a.requestUri = "sip:a@gw-a.example.org";
    a.pushVia("SIP/2.0/UDP p;branch=z9hG4bKa1");
    b.requestUri = "sip:b@gw-b.example.org";
    expect(reparse(a).viaHops).toHaveLength(3);
    expect(reparse(b).viaHops).toHaveLength(2);
    expect(m.requestUri).toBe("sip:+15550100@proxy.example.org;user=phone");
    expect(m.serialize().toString()).not.toContain("gw-a");
  });

  it("keeps typed accessors in step with edits", () => {
    const m = invite();
    expect(m.viaHops).toHaveLength(2);
    m.popVia();
    expect(m.viaHops).toHaveLength(1);
    m.setHeader("From", "<sip:new@example.org>;tag=n2");
    expect(m.from?.tag).toBe("n2");
  });
});
