// Mutation fuzzer with a bounded budget: real messages (the torture fixtures and a typical
// INVITE) are mutated byte-wise with SIP-significant characters; whatever comes out, the
// parser must return a result (never throw), every accessor of an accepted message must
// work, and an accepted message must serialise to bytes that parse again. The same inputs
// go through the stream framer in random chunks.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createResponse,
  parseSipMessage,
  type SipMessage,
  SipRequest,
  SipStreamFramer,
} from "../../src/sip/index.js";
import { tortureCases, wire } from "./fixtures/torture-messages.js";

const invite = wire(
  [
    "INVITE sip:+15550100@gw.example.org;user=phone SIP/2.0",
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKf1;rport",
    "Max-Forwards: 70",
    "Route: <sip:proxy.example.org;lr>",
    'From: "Caller" <sip:caller@example.org>;tag=a',
    "To: <tel:+1-555-0100>",
    "Call-ID: fuzz@192.0.2.1",
    "CSeq: 1 INVITE",
    "Contact: <sip:caller@192.0.2.1:5060>;expires=60",
    'Authorization: Digest username="u", realm="r", nonce="n", uri="sip:x", response="0123"',
    'Reason: Q.850;cause=16;text="Normal"',
    "Allow: INVITE, ACK, CANCEL, BYE",
    "P-Asserted-Identity: <sip:+15550199@example.org>",
    "History-Info: <sip:a@example.org>;index=1, <sip:b@example.org>;index=1.1",
    "Diversion: <sip:c@example.org>;reason=unconditional",
    "Referred-By: <sip:d@example.org>",
    "Content-Type: application/sdp",
    "Content-Length: 12",
  ],
  "v=0\r\ns=-\r\n\r\n",
);
const seeds = [invite, ...tortureCases.filter((c) => c.bytes.length < 8000).map((c) => c.bytes)];
const dictionary = [
  "\r\n",
  "\r\n ",
  " ",
  "\t",
  ";",
  ",",
  ":",
  "<",
  ">",
  '"',
  "\\",
  "%",
  "%0",
  "=",
  "@",
  "[",
  "]",
  "?",
  "\0",
  "\xff",
  "SIP/2.0",
  "Via:",
  "l: 99",
  "\r\n\r\n",
].map((s) => Buffer.from(s, "latin1"));

type Mutation = { kind: number; at: number; len: number; pick: number; byte: number };
const mutation = fc.record({
  kind: fc.integer({ min: 0, max: 4 }),
  at: fc.nat(),
  len: fc.integer({ min: 1, max: 40 }),
  pick: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
});

function mutate(input: Buffer, ms: readonly Mutation[]): Buffer {
  let b = input;
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    switch (m.kind) {
      case 0: // overwrite one byte
        b = Buffer.from(b);
        if (b.length > 0) b[at] = m.byte;
        break;
      case 1: // insert a SIP-significant token
        b = Buffer.concat([b.subarray(0, at), dictionary[m.pick % dictionary.length]!, b.subarray(at)]);
        break;
      case 2: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      case 3: // duplicate a range (repeated headers, doubled separators)
        b = Buffer.concat([b.subarray(0, at + m.len), b.subarray(at, at + m.len), b.subarray(at + m.len)]);
        break;
      default: // truncate
        b = b.subarray(0, at);
    }
  }
  return b;
}

function touchEverything(m: SipMessage): void {
  for (const f of m.headerFields) void f.value;
  void [
    m.viaHops,
    m.topVia,
    m.maxForwards,
    m.from,
    m.to,
    m.callId,
    m.cseq,
    m.contact,
    m.routes,
    m.recordRoutes,
  ];
  void [
    m.contentLength,
    m.expires,
    m.authorization,
    m.proxyAuthorization,
    m.wwwAuthenticate,
    m.proxyAuthenticate,
  ];
  void [
    m.reasons,
    m.allow,
    m.supported,
    m.require,
    m.proxyRequire,
    m.pAssertedIdentity,
    m.diversion,
    m.historyInfo,
    m.referredBy,
  ];
  if (m instanceof SipRequest) void m.uri;
}

describe("mutation fuzzer", () => {
  it("never throws, and whatever it accepts survives serialise + reparse", () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 6 }), (seedIndex, ms) => {
        const data = mutate(seeds[seedIndex % seeds.length]!, ms);
        for (const transport of ["datagram", "stream"] as const) {
          const r = parseSipMessage(data, { transport });
          if (!r.ok) {
            rejected++;
            expect(r.error.reason).not.toMatch(/[\r\n]/);
            if (r.error.canRespond && r.error.partial !== null) {
              const res = createResponse(r.error.partial, r.error.status, r.error.reason, { toTag: "z" });
              void res.serialize();
            }
            continue;
          }
          accepted++;
          touchEverything(r.message);
          const again = parseSipMessage(r.message.serialize(), { transport });
          expect(again.ok).toBe(true);
          if (r.message instanceof SipRequest) {
            r.message.pushVia("SIP/2.0/UDP fuzz.example.org;branch=z9hG4bKz");
            r.message.decrementMaxForwards();
            r.message.addRecordRoute("<sip:fuzz.example.org;lr>");
            const edited = parseSipMessage(r.message.serialize(), { transport });
            expect(edited.ok).toBe(true);
          }
        }
      }),
      { numRuns: 3000, seed: 4475 },
    );
    // Both outcomes must have been exercised, or the fuzzer is not fuzzing.
    expect(accepted).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });

  it("the stream framer survives random chunking of mutated streams", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.array(mutation, { maxLength: 3 })), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }),
        (parts, cuts) => {
          const stream = Buffer.concat(parts.map(([i, ms]) => mutate(seeds[i % seeds.length]!, ms)));
          const framer = new SipStreamFramer();
          let pos = 0;
          let k = 0;
          while (pos < stream.length) {
            const n = cuts[k++ % cuts.length]!;
            for (const e of framer.push(stream.subarray(pos, pos + n))) {
              if (e.kind === "message") void parseSipMessage(e.data, { transport: "stream" });
            }
            pos += n;
          }
          expect(framer.buffered).toBeLessThanOrEqual(stream.length);
        },
      ),
      { numRuns: 500, seed: 5626 },
    );
  });
});
