// SIP parser micro-benchmark: messages per second on one core for
//   1. parse + serialise of a typical INVITE with SDP (unmodified: serialise returns the bytes),
//   2. parse + serialise of a 200 OK with SDP,
//   3. parse + the edits a record-routing proxy makes to an INVITE + serialise,
//   4. parse + pop Via + serialise of the 200 OK (the response path of a proxy).
// Run with `npm run bench:sip-parse`. Timings are printed, never asserted.
import { cpus } from "node:os";
import { parseSipMessage, SipRequest, type SipResponse } from "../src/sip/index.js";

const sdp = [
  "v=0",
  "o=- 3920847711 3920847711 IN IP4 203.0.113.10",
  "s=-",
  "c=IN IP4 203.0.113.10",
  "t=0 0",
  "m=audio 20000 RTP/AVP 0 8 9 101",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:8 PCMA/8000",
  "a=rtpmap:9 G722/8000",
  "a=rtpmap:101 telephone-event/8000",
  "a=fmtp:101 0-16",
  "a=ptime:20",
  "a=sendrecv",
  "",
].join("\r\n");

const invite = Buffer.from(
  [
    "INVITE sip:+14255550100@sbc.example.com:5060;user=phone SIP/2.0",
    "Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK-524287-1---8a1d0f9c2b3e4d5f;rport",
    "Max-Forwards: 70",
    "Contact: <sip:+14255550199@203.0.113.10:5060;transport=udp>",
    "To: <sip:+14255550100@sbc.example.com;user=phone>",
    'From: "Alice Example" <sip:+14255550199@carrier.example.net;user=phone>;tag=9fxced76sl',
    "Call-ID: 3848276298220188511@203.0.113.10",
    "CSeq: 1 INVITE",
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE",
    "Supported: replaces, timer, 100rel",
    "P-Asserted-Identity: <sip:+14255550199@carrier.example.net;user=phone>",
    "User-Agent: ExampleSBC/7.2",
    "Session-Expires: 1800",
    "Content-Type: application/sdp",
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    "",
    sdp,
  ].join("\r\n"),
);

const ok = Buffer.from(
  [
    "SIP/2.0 200 OK",
    "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKdg.1a2b3c4d5e6f.0",
    "Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK-524287-1---8a1d0f9c2b3e4d5f;rport=5060;received=203.0.113.10",
    "Record-Route: <sip:198.51.100.1;lr>",
    "To: <sip:+14255550100@sbc.example.com;user=phone>;tag=as5f3a2b71",
    'From: "Alice Example" <sip:+14255550199@carrier.example.net;user=phone>;tag=9fxced76sl',
    "Call-ID: 3848276298220188511@203.0.113.10",
    "CSeq: 1 INVITE",
    "Contact: <sip:+14255550100@192.0.2.50:5060>",
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE",
    "Supported: replaces, timer",
    "Session-Expires: 1800;refresher=uac",
    "Content-Type: application/sdp",
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    "",
    sdp,
  ].join("\r\n"),
);

let sink = 0;

function inviteParseSerialize(): void {
  const r = parseSipMessage(invite);
  if (!r.ok) throw new Error(r.error.reason);
  sink += r.message.serialize().length;
}

function okParseSerialize(): void {
  const r = parseSipMessage(ok);
  if (!r.ok) throw new Error(r.error.reason);
  sink += r.message.serialize().length;
}

function inviteProxyEdits(): void {
  const r = parseSipMessage(invite);
  if (!r.ok || !(r.message instanceof SipRequest)) throw new Error("parse");
  const m = r.message;
  // What the proxy reads before forwarding (§16.3 checks, transaction key, routing inputs).
  sink += m.topVia!.branch!.length + m.cseq!.seq + m.maxForwards! + m.from!.tag!.length + m.callId!.length;
  m.decrementMaxForwards();
  m.pushVia("SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKdg.1a2b3c4d5e6f.0");
  m.addRecordRoute("<sip:198.51.100.1;lr>");
  m.requestUri = "sip:+14255550100@192.0.2.50:5060;user=phone";
  sink += m.serialize().length;
}

function okPopVia(): void {
  const r = parseSipMessage(ok);
  if (!r.ok) throw new Error(r.error.reason);
  const m = r.message as SipResponse;
  sink += m.topVia!.branch!.length;
  m.popVia();
  sink += m.serialize().length;
}

function measure(name: string, fn: () => void, seconds: number): number {
  for (let i = 0; i < 20_000; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 5_000; i++) fn();
    n += 5_000;
    elapsed = process.hrtime.bigint() - start;
  }
  const perSecond = n / (Number(elapsed) / 1e9);
  const usPer = (Number(elapsed) / 1e3 / n).toFixed(2);
  console.log(
    `${name.padEnd(52)} ${Math.round(perSecond).toLocaleString("en-US").padStart(10)} msg/s  (${usPer} µs each)`,
  );
  return perSecond;
}

const seconds = Number(process.env.BENCH_SECONDS ?? "3");
console.log(`SIP parser benchmark — node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"}`);
console.log(`INVITE ${invite.length} bytes, 200 OK ${ok.length} bytes, ${seconds} s per case\n`);
measure("INVITE (SDP) parse + serialise", inviteParseSerialize, seconds);
measure("200 OK (SDP) parse + serialise", okParseSerialize, seconds);
measure("INVITE parse + proxy edits + serialise", inviteProxyEdits, seconds);
measure("200 OK parse + pop Via + serialise", okPopVia, seconds);
if (sink === 0) console.log("(unreachable)");
