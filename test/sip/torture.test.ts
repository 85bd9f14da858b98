import { describe, expect, it } from "vitest";
import { parseSipMessage, type SipRequest as Req, SipRequest, SipResponse } from "../../src/sip/index.js";
import { oddMethod, oddPassword, oddUser, tortureCases } from "./fixtures/torture-messages.js";

function byId(id: string) {
  const c = tortureCases.find((t) => t.id === id);
  if (c === undefined) throw new Error(`no case ${id}`);
  const r = parseSipMessage(c.bytes, { transport: c.transport });
  if (!r.ok) throw new Error(`${id}: ${r.error.code} ${r.error.reason}`);
  return r.message;
}

function request(id: string): Req {
  const m = byId(id);
  if (!(m instanceof SipRequest)) throw new Error("not a request");
  return m;
}

describe("torture cases (RFC 4475 / RFC 5118, our own messages)", () => {
  for (const c of tortureCases) {
    it(`${c.id} (${c.source}): ${c.expect === "valid" ? "parses" : `rejected as ${c.expect.code}`}`, () => {
      const r = parseSipMessage(c.bytes, { transport: c.transport });
      if (c.expect === "valid") {
        expect(r.ok ? "ok" : `${r.error.code}: ${r.error.reason}`).toBe("ok");
        if (r.ok && c.id !== "two-messages-one-datagram")
          expect(r.message.serialize().equals(c.bytes)).toBe(true);
      } else {
        expect(r.ok).toBe(false);
        if (r.ok) return;
        expect(r.error.code).toBe(c.expect.code);
        if (c.expect.header !== undefined) expect(r.error.header).toBe(c.expect.header);
        if (c.expect.canRespond !== undefined) expect(r.error.canRespond).toBe(c.expect.canRespond);
        expect(r.error.reason.length).toBeGreaterThan(0);
        expect(r.error.reason).not.toMatch(/[\r\n]/);
      }
    });
  }

  it("reads through whitespace, folding and compact forms", () => {
    const m = request("whitespace-folding");
    expect(m.method).toBe("OPTIONS");
    expect(m.to?.tag).toBe("77aa1");
    expect(m.to?.uriText).toBe("sip:carol@venue.example.org");
    expect(m.from?.displayName).toBe('Dr. "Q" \\ Quux');
    expect(m.from?.tag).toBe("fz9");
    expect(m.maxForwards).toBe(42);
    expect(m.cseq).toEqual({ seq: 21, method: "OPTIONS" });
    expect(m.viaHops?.map((v) => [v.transport, v.host, v.branch])).toEqual([
      ["UDP", "198.51.100.7", "z9hG4bKws1"],
      ["TCP", "relay.example.org", "z9hG4bKws2"],
      ["UDP", "203.0.113.9", "z9hG4bKws3"],
    ]);
    expect(m.header("x-stretchy")).toBe("first part second part");
    expect(m.header("Subject")).toBe("");
    expect(m.header("x-odd-chars")).toBe(";;,,;;,;");
    const contact = m.contact;
    if (contact === undefined || contact === "*") throw new Error("contact");
    expect(contact[0]?.displayName).toBe('Quoted "" name');
    expect([...(contact[0]?.params ?? [])]).toEqual([
      ["fresh", "value"],
      ["lone", null],
      ["q", "0.5"],
    ]);
    expect(m.routes[0]?.uri.kind === "sip" && m.routes[0].uri.params.has("lr")).toBe(true);
  });

  it("keeps token characters in methods and header names", () => {
    const m = request("token-characters");
    expect(m.method).toBe("~Odd.Verb-2_*+`%!'");
    expect(m.header("!X-`TOKEN.name~*%+_'")).toBe("a 'funny' \\value\\ <with> [symbols]");
    const uri = m.uri;
    expect(uri?.kind === "sip" ? uri.user : null).toBe("alpha;x=[");
    expect(uri?.kind === "sip" ? uri.params.get("mode") : null).toBe("~odd");
  });

  it("resolves escapes in user parts, including %00", () => {
    const m = request("valid-escapes");
    expect(m.uri?.kind === "sip" ? m.uri.user : null).toBe("a b%c");
    const to = m.to?.uri;
    expect(to?.kind === "sip" ? to.user : null).toBe("dave");
    const nul = request("escaped-nul").to?.uri;
    expect(nul?.kind === "sip" ? nul.user : null).toBe("zero\u0000byte");
  });

  it("treats % outside URIs as a literal", () => {
    const m = request("percent-not-escape");
    expect(m.method).toBe("NOT%49FY");
    expect(m.callId).toBe("pct%zz@198.51.100.7");
    expect(m.to?.displayName).toBe("100%");
    expect(m.uri?.kind === "sip" ? m.uri.user : null).toBe("me");
  });

  it("parses display names glued to <", () => {
    const m = request("no-lws-before-laquot");
    expect(m.to?.displayName).toBe("dave");
    expect(m.from?.displayName).toBe("carol");
  });

  it("handles long values and many Vias", () => {
    const m = request("long-values");
    expect(m.viaHops).toHaveLength(40);
    expect(m.to?.displayName).toHaveLength(600);
    expect(m.header("x-long")).toHaveLength(4000);
  });

  it("ignores bytes after Content-Length in a datagram", () => {
    const c = tortureCases.find((t) => t.id === "two-messages-one-datagram")!;
    const m = request("two-messages-one-datagram");
    expect(m.method).toBe("REGISTER");
    expect(m.serialize().length).toBeLessThan(c.bytes.length);
    expect(c.bytes.subarray(0, m.serialize().length).equals(m.serialize())).toBe(true);
  });

  it("keeps ';' in a user part as user text", () => {
    const uri = request("semicolon-in-user").uri;
    expect(uri?.kind).toBe("sip");
    if (uri?.kind !== "sip") return;
    expect(uri.user).toBe("ext;ctx=z@home.example.org");
    expect(uri.host).toBe("pbx.example.org");
    expect(uri.params.size).toBe(0);
  });

  it("accepts unknown transports", () => {
    expect(request("unknown-transports").viaHops?.map((v) => v.transport)).toEqual([
      "SCTP",
      "TLS",
      "QUIC-X",
      "CARRIER-PIGEON",
    ]);
  });

  it("keeps a binary multipart body byte for byte", () => {
    const m = request("multipart-binary-body");
    expect(m.body.includes(Buffer.from([0x00, 0xff, 0xfe, 0x80]))).toBe(true);
    expect(m.body.length).toBe(m.contentLength);
  });

  it("decodes a UTF-8 reason phrase and accepts an empty one", () => {
    const ok = byId("utf8-reason-phrase");
    expect(ok instanceof SipResponse && ok.reason).toBe("Принято — 好的 ✓ everything is fine, really");
    const empty = byId("empty-reason-phrase");
    expect(empty instanceof SipResponse && [empty.status, empty.reason]).toEqual([180, ""]);
  });

  it("parses URIs of unknown schemes", () => {
    expect(request("unknown-scheme-request-uri").uri).toMatchObject({
      kind: "absolute",
      scheme: "neverheardof",
    });
    expect(request("dotted-scheme-request-uri").uri).toMatchObject({ kind: "absolute", scheme: "soap.beep" });
    const m = request("unknown-schemes-in-headers");
    expect(m.to?.uri).toMatchObject({ kind: "absolute", scheme: "isbn" });
    expect(m.from?.uri).toMatchObject({ kind: "absolute", scheme: "https" });
    expect(m.from?.tag).toBe("u1");
  });

  it("lists unknown extensions", () => {
    const m = request("unknown-extensions");
    expect(m.require).toEqual(["nonexistent-ext", "another.one"]);
    expect(m.proxyRequire).toEqual(["frobber"]);
  });

  it("tells header parameters from URI parameters in Contact", () => {
    const outside = request("contact-param-outside").contact;
    const inside = request("contact-param-inside").contact;
    if (outside === undefined || outside === "*" || inside === undefined || inside === "*")
      throw new Error("contact");
    expect(outside[0]?.params.has("strangeparam")).toBe(true);
    expect(outside[0]?.uri.kind === "sip" && outside[0].uri.params.size).toBe(0);
    expect(inside[0]?.params.size).toBe(0);
    expect(inside[0]?.uri.kind === "sip" && inside[0].uri.params.has("strangeparam")).toBe(true);
    const escaped = request("escaped-route-in-contact").contact;
    if (escaped === undefined || escaped === "*") throw new Error("contact");
    expect(escaped[0]?.uri.kind === "sip" && escaped[0].uri.headers.get("Route")).toBe(
      "<sip:edge.example.org>",
    );
  });

  it("parses IPv6 references", () => {
    const m = request("ipv6-request-uri");
    expect(m.uri).toMatchObject({ kind: "sip", host: "[2001:db8::20]", port: 5070 });
    expect(m.topVia).toMatchObject({ host: "[2001:db8::9:1]", received: "2001:db8::9:255" });
  });

  it("keeps non-UTF-8 header bytes through an edit", () => {
    const c = tortureCases.find((t) => t.id === "latin1-display-name")!;
    const m = request("latin1-display-name");
    expect(m.from?.displayName).toBe("Ren\u00e9\u00e9");
    m.decrementMaxForwards();
    const out = m.serialize();
    expect(out.includes(Buffer.from([0x52, 0x65, 0x6e, 0xe9, 0xe9]))).toBe(true);
    expect(out.length).toBe(c.bytes.length);
  });

  it("refuses a missing Max-Forwards only when asked to", () => {
    const c = tortureCases.find((t) => t.id === "missing-max-forwards")!;
    const r = parseSipMessage(c.bytes, { requireMaxForwards: true });
    expect(r.ok ? "ok" : [r.error.code, r.error.header]).toEqual(["missing-header", "Max-Forwards"]);
    expect(request("missing-max-forwards").maxForwards).toBeUndefined();
  });

  it("reads RFC 4475's own wsinv (§3.1.1.1): folded, spaced and compact headers, RFC 2543 branch, body", () => {
    const m = request("wsinv");
    expect(m.method).toBe("INVITE");
    expect(m.to?.tag).toBe("1918181833n");
    expect(m.from?.displayName).toBe('J Rosenberg \\"');
    expect(m.from?.tag).toBe("98asjd8");
    expect(m.maxForwards).toBe(68);
    expect(m.cseq).toEqual({ seq: 9, method: "INVITE" });
    expect(m.viaHops?.map((v) => [v.transport, v.host, v.branch])).toEqual([
      ["UDP", "192.0.2.2", "390skdjuw"],
      ["TCP", "spindle.example.com", "z9hG4bK9ikj8"],
      ["UDP", "192.168.255.111", "z9hG4bK30239"],
    ]);
    expect(m.header("NewFangledHeader")).toBe("newfangled value continued newfangled value");
    expect(m.body.length).toBe(150);
    expect(m.body.toString("latin1")).toMatch(/^v=0\r\n[\s\S]*a=rtpmap:31 LPC\r\n$/);
  });

  it("reads RFC 4475's bcast (§3.3.10): a 200 whose second Via is the broadcast address", () => {
    const m = byId("bcast");
    if (!(m instanceof SipResponse)) throw new Error("not a response");
    expect(m.status).toBe(200);
    expect(m.viaHops?.map((v) => v.host)).toEqual(["192.0.2.198", "255.255.255.255"]);
    expect(m.body.length).toBe(154);
  });

  it("says what the edge answers to every request case, and only answers it can give", () => {
    for (const c of tortureCases) {
      const r = parseSipMessage(c.bytes, { transport: c.transport });
      // Responses, and requests that cannot be answered (no Via, not SIP), get nothing.
      const answerable = r.ok ? r.message instanceof SipRequest : r.error.canRespond;
      if (!answerable) {
        expect(c.edge, c.id).toBeUndefined();
        continue;
      }
      expect(c.edge, c.id).toBeDefined();
      // A parse failure is answered with the parser's status, except RFC 4475 §3.1.2.18's 501.
      if (!r.ok && c.id !== "unknown-method-mismatch") expect(c.edge, c.id).toBe(r.error.status);
      // A valid request is never answered 400 (RFC 4475 §3.2.1's bare cookie is the transaction layer's call).
      if (r.ok && c.id !== "bare-magic-cookie-branch") expect(c.edge, c.id).not.toBe(400);
    }
  });

  it("reads every character the grammar allows in methods, URIs, tokens, words and quoted-pairs", () => {
    const m = request("every-legal-character");
    expect(m.method).toBe(oddMethod);
    expect(m.cseq?.method).toBe(oddMethod);
    const uri = m.uri;
    if (uri?.kind !== "sip") throw new Error("uri");
    expect([uri.user, uri.password, uri.host]).toEqual([
      oddUser,
      oddPassword.replace("%41", "A"),
      "gw.example.org",
    ]);
    expect(m.topVia?.branch).toBe("z9hG4bK-.!%77*_+`'~");
    // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F): BEL, NUL and DEL are legal escaped.
    expect(m.to?.displayName).toBe("bell:\u0007 nul:\u0000 del:\u007f");
    expect(m.to?.uri.kind === "sip" && m.to.uri.user).toBe(oddUser);
    expect(m.from?.displayName).toBe("tok1~` tok2'+_ tok3*%!.-");
    expect(m.from?.params.get("oddparam''~+*_!.-%")).toBe("ĉiuj ŝanĝoj");
    expect(m.from?.tag).toBe("_t~1'+`*%!-.");
    expect(m.callId).toBe("word.Q7-!%*_+`'~()<>:\\\"/[]?{}@w");
    expect(m.maxForwards).toBe(255);
    expect(m.header("X-EXT-!.%*+_`'~")).toBe("\uFEFF停電です");
  });

  it("resolves escapes in users but leaves parameters as written", () => {
    const m = request("escaped-uri-parameters");
    expect(m.uri?.kind === "sip" && m.uri.user).toBe("sips:carol@home.example.org");
    expect(m.to?.uri.kind === "sip" && m.to.uri.user).toBe("dave");
    expect(m.from?.uri.kind === "sip" && m.from.uri.user).toBe("carol the caller");
    expect(m.callId).toBe("escapes.2@198.51.100.7");
    expect(m.contentType).toBe("application/sdp");
    const contact = m.contact;
    if (contact === undefined || contact === "*") throw new Error("contact");
    expect(
      contact[0]?.uri.kind === "sip" && [contact[0].uri.user, [...contact[0].uri.params.keys()]],
    ).toEqual(["carol", ["%6c%72", "fl%61vour"]]);
  });

  it("takes a header named like an escaped Contact for an extension header", () => {
    const m = request("percent-not-escape");
    const contact = m.contact;
    expect(contact !== "*" && contact?.map((c) => c.uriText)).toEqual(["sip:first@198.51.100.7"]);
    expect(m.header("C%6Fntact")).toBe("<sip:not-a-contact@198.51.100.8>");
    expect(m.topVia?.branch).toBe("z9hG4bK71%qx.pct");
    const nul = request("escaped-nul").contact;
    expect(nul !== "*" && nul?.map((c) => (c.uri.kind === "sip" ? c.uri.user : null))).toEqual([
      "zero\u0000byte",
      "\u0000",
      "\u0000\u0000",
    ]);
    expect(request("escaped-nul").contentLength).toBe(0);
  });

  it("reads an RFC 2543 INVITE: no branch, no Max-Forwards, no From tag, body to the end of the datagram", () => {
    const c = tortureCases.find((t) => t.id === "rfc2543-invite")!;
    const m = request("rfc2543-invite");
    expect(m.topVia).toMatchObject({ host: "198.51.100.7", port: 5060, branch: null });
    expect(m.maxForwards).toBeUndefined();
    expect(m.contentLength).toBeUndefined();
    expect(m.from?.tag).toBeNull();
    // An addr-spec cannot carry URI parameters: ;user=phone belongs to the header (§20.10).
    expect(m.from?.params.get("user")).toBe("phone");
    expect(m.from?.uri.kind === "sip" && m.from.uri.params.size).toBe(0);
    expect(m.body.toString("latin1")).toBe(c.bytes.toString("latin1").split("\r\n\r\n")[1]);
    expect(m.body.length).toBeGreaterThan(0);
    // Forwarded, it gets Max-Forwards 70 (§16.6 step 3) and a Content-Length that frames it.
    expect(m.decrementMaxForwards()).toBe(70);
    m.ensureContentLength();
    const again = parseSipMessage(m.serialize(), { transport: "stream" });
    if (!again.ok) throw new Error(again.error.reason);
    expect(again.message.maxForwards).toBe(70);
    expect(again.message.body.equals(m.body)).toBe(true);
  });

  it("reads unknown URI schemes in Contact, and a branch that is only the magic cookie", () => {
    const contact = request("unknown-schemes-in-headers").contact;
    expect(contact !== "*" && contact?.[0]?.uri).toMatchObject({ kind: "absolute", scheme: "nickname" });
    expect(request("bare-magic-cookie-branch").topVia?.branch).toBe("z9hG4bK");
  });

  it("gives a partial request that can build the 400", () => {
    const c = tortureCases.find((t) => t.id === "cseq-method-mismatch")!;
    const r = parseSipMessage(c.bytes);
    if (r.ok) throw new Error("should fail");
    expect(r.error.partial?.callId).toBe("base.call.1@198.51.100.7");
    expect(r.error.partial?.topVia?.branch).toBe("z9hG4bKbase01");
  });
});
