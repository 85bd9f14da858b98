// Round-trip properties (fast-check): generated messages parse to what was generated, serialise
// back to the same bytes, and random sequences of proxy edits match a simple model.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSipMessage, SipRequest, SipResponse } from "../../src/sip/index.js";

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const tokenChars = alnum + "-.!%*_+`'~";
const charsOf = (chars: string, min: number, max: number) =>
  fc.array(fc.constantFrom(...chars.split("")), { minLength: min, maxLength: max }).map((a) => a.join(""));
const token = charsOf(tokenChars, 1, 12);
const label = charsOf(alnum, 1, 10);
const host = fc.oneof(
  fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join(".")),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join(".")),
  fc.constantFrom("[2001:db8::1]", "[::1]", "[fe80::a:b]"),
);
const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: null });
const user = charsOf(alnum + "-_.!~*'()&=+$,;?/", 1, 12);
const uriParams = fc.array(fc.tuple(label, fc.option(label, { nil: null })), { maxLength: 3 });
const sipUri = fc
  .record({
    scheme: fc.constantFrom("sip", "sips"),
    user: fc.option(user, { nil: null }),
    host,
    port,
    params: uriParams,
  })
  .map(
    (u) =>
      `${u.scheme}:${u.user === null ? "" : u.user + "@"}${u.host}${u.port === null ? "" : ":" + u.port}` +
      u.params.map(([n, v]) => (v === null ? `;${n}` : `;${n}=${v}`)).join(""),
  );
const displayText = charsOf(alnum + " ,;:<>@\\\"'()[]?/=%é漢", 0, 16);
const displayName = fc.option(displayText, { nil: null });
const quote = (s: string) => '"' + s.replace(/[\\"]/g, (c) => "\\" + c) + '"';
const nameAddr = fc
  .record({ display: displayName, uri: sipUri, tag: fc.option(token, { nil: null }) })
  .map((n) => ({
    ...n,
    text: `${n.display === null ? "" : quote(n.display) + " "}<${n.uri}>${n.tag === null ? "" : ";tag=" + n.tag}`,
  }));
const via = fc
  .record({ transport: fc.constantFrom("UDP", "TCP", "TLS", "WS"), host, port, branch: token })
  .map((v) => ({
    ...v,
    text: `SIP/2.0/${v.transport} ${v.host}${v.port === null ? "" : ":" + v.port};branch=z9hG4bK${v.branch}`,
  }));
const headerValue = charsOf(alnum + " \t!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~é", 0, 30).map((s) => s.trim());
const extension = fc.tuple(
  token.map((t) => "X-" + t),
  headerValue,
);
const body = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a));

const request = fc.record({
  method: token,
  uri: sipUri,
  vias: fc.array(via, { minLength: 1, maxLength: 4 }),
  from: nameAddr,
  to: nameAddr,
  callId: charsOf(alnum + "-.!%*_+`'~()<>:\\\"/[]?{}", 1, 20),
  seq: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  maxForwards: fc.integer({ min: 0, max: 255 }),
  extensions: fc.array(extension, { maxLength: 6 }),
  body,
});

type Generated = typeof request extends fc.Arbitrary<infer T> ? T : never;

function render(g: Generated): Buffer {
  const lines = [
    `${g.method} ${g.uri} SIP/2.0`,
    ...g.vias.map((v) => `Via: ${v.text}`),
    `Max-Forwards: ${g.maxForwards}`,
    `From: ${g.from.text}`,
    `To: ${g.to.text}`,
    `Call-ID: ${g.callId}`,
    `CSeq: ${g.seq} ${g.method}`,
    ...g.extensions.map(([n, v]) => `${n}: ${v}`),
    `Content-Length: ${g.body.length}`,
  ];
  return Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n", "utf8"), g.body]);
}

function parseRequest(bytes: Buffer): SipRequest {
  const r = parseSipMessage(bytes);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.reason}\n${bytes.toString()}`);
  if (!(r.message instanceof SipRequest)) throw new Error("not a request");
  return r.message;
}

const RUNS = { numRuns: 400, seed: 20250611 };

describe("round-trip properties", () => {
  it("generated requests parse to their parts and serialise to the same bytes", () => {
    fc.assert(
      fc.property(request, (g) => {
        const bytes = render(g);
        const m = parseRequest(bytes);
        expect(m.serialize().equals(bytes)).toBe(true);
        expect(m.method).toBe(g.method);
        expect(m.requestUri).toBe(g.uri);
        expect(m.uri?.raw).toBe(g.uri);
        expect(m.viaHops?.map((v) => v.branch)).toEqual(g.vias.map((v) => "z9hG4bK" + v.branch));
        expect(m.viaHops?.map((v) => [v.host, v.port])).toEqual(g.vias.map((v) => [v.host, v.port]));
        expect(m.from?.displayName).toBe(g.from.display);
        expect(m.from?.uriText).toBe(g.from.uri);
        expect(m.to?.tag).toBe(g.to.tag);
        expect(m.callId).toBe(g.callId);
        expect(m.cseq).toEqual({ seq: g.seq, method: g.method });
        expect(m.maxForwards).toBe(g.maxForwards);
        for (const [name, value] of g.extensions) expect(m.headers(name)).toContain(value);
        expect(m.body.equals(g.body)).toBe(true);
      }),
      RUNS,
    );
  });

  it("edits match a model of the header list, and untouched lines keep their bytes", () => {
    type Edit =
      | { op: "push"; value: string }
      | { op: "pop" }
      | { op: "mf" }
      | { op: "rr"; value: string }
      | { op: "add"; name: string; value: string; first: boolean }
      | { op: "remove"; name: string }
      | { op: "set"; name: string; value: string }
      | { op: "uri"; value: string };
    const edit: fc.Arbitrary<Edit> = fc.oneof(
      via.map((v) => ({ op: "push" as const, value: v.text })),
      fc.constant({ op: "pop" as const }),
      fc.constant({ op: "mf" as const }),
      sipUri.map((u) => ({ op: "rr" as const, value: `<${u};lr>` })),
      fc
        .tuple(extension, fc.boolean())
        .map(([[name, value], first]) => ({ op: "add" as const, name, value, first })),
      fc.constantFrom("x-a", "X-B", "Subject").map((name) => ({ op: "remove" as const, name })),
      fc
        .tuple(fc.constantFrom("X-A", "x-b", "Subject"), headerValue)
        .map(([name, value]) => ({ op: "set" as const, name, value })),
      sipUri.map((value) => ({ op: "uri" as const, value })),
    );
    fc.assert(
      fc.property(request, fc.array(edit, { maxLength: 10 }), (g, edits) => {
        const m = parseRequest(render(g));
        let viaValues = g.vias.map((v) => v.text);
        let uri = g.uri;
        let mf = g.maxForwards;
        const rr: string[] = [];
        for (const e of edits) {
          switch (e.op) {
            case "push":
              m.pushVia(e.value);
              viaValues = [e.value, ...viaValues];
              break;
            case "pop":
              if (viaValues.length > 1) {
                expect(m.popVia()).toBe(viaValues[0]);
                viaValues = viaValues.slice(1);
              }
              break;
            case "mf":
              mf = mf > 0 ? mf - 1 : 0;
              expect(m.decrementMaxForwards()).toBe(mf);
              break;
            case "rr":
              m.addRecordRoute(e.value);
              rr.unshift(e.value);
              break;
            case "add":
              m.addHeader(e.name, e.value, { first: e.first });
              break;
            case "remove":
              m.removeHeader(e.name);
              break;
            case "set":
              m.setHeader(e.name, e.value);
              expect(m.headers(e.name)).toEqual([e.value]);
              break;
            case "uri":
              m.setRequestUri(e.value);
              uri = e.value;
              break;
          }
        }
        const out = parseRequest(m.serialize());
        expect(out.requestUri).toBe(uri);
        expect(out.headers("via")).toEqual(viaValues);
        expect(out.maxForwards).toBe(mf);
        expect(out.headers("record-route")).toEqual(rr);
        expect(out.headerFields.map((f) => [f.name, f.value])).toEqual(
          m.headerFields.map((f) => [f.name, f.value]),
        );
        expect(out.body.equals(g.body)).toBe(true);
        // The From line was never touched: its bytes are the original ones.
        expect(out.serialize().includes(Buffer.from(`From: ${g.from.text}\r\n`, "utf8"))).toBe(true);
      }),
      RUNS,
    );
  });

  it("responses round-trip too", () => {
    const response = fc.record({
      status: fc.integer({ min: 100, max: 699 }),
      reason: headerValue,
      vias: fc.array(via, { minLength: 1, maxLength: 3 }),
      from: nameAddr,
      to: nameAddr,
      seq: fc.integer({ min: 1, max: 1000 }),
      body,
    });
    fc.assert(
      fc.property(response, (g) => {
        const bytes = Buffer.concat([
          Buffer.from(
            [
              `SIP/2.0 ${g.status} ${g.reason}`,
              `Via: ${g.vias.map((v) => v.text).join(", ")}`,
              `From: ${g.from.text}`,
              `To: ${g.to.text}`,
              "Call-ID: r@x",
              `CSeq: ${g.seq} INVITE`,
              `Content-Length: ${g.body.length}`,
              "",
              "",
            ].join("\r\n"),
          ),
          g.body,
        ]);
        const r = parseSipMessage(bytes);
        if (!r.ok) throw new Error(r.error.reason);
        expect(r.message).toBeInstanceOf(SipResponse);
        if (!(r.message instanceof SipResponse)) return;
        expect([r.message.status, r.message.reason]).toEqual([g.status, g.reason]);
        expect(r.message.viaHops).toHaveLength(g.vias.length);
        expect(r.message.serialize().equals(bytes)).toBe(true);
      }),
      RUNS,
    );
  });
});
