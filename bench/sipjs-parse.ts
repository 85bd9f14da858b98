// dialgate's SIP parser and URI grammar against sip.js's (the stack names sip.js), on the
// same messages and URIs, on one core:
//   1. parse a typical INVITE with SDP and read what a proxy needs (top Via branch, From tag
//      and URI, To, CSeq, Call-ID, Contact URI, Max-Forwards);
//   2. the same for a 200 OK;
//   3. parse a set of URIs (sip with parameters, sips, IPv6, user=phone, tel, escaped user);
//   4. parse name-addr values (display name, URI, tag).
// It also checks that both read the same values, and prints where they differ. Run with
// `npm run bench:sipjs-parse`. Timings are printed, never asserted; results in bench/README.md.
import { cpus } from "node:os";
import { Core } from "sip.js";
import { parseNameAddr, parseSipMessage, parseUri, SipRequest } from "../src/sip/index.js";

const sdp = [
  "v=0",
  "o=- 3920847711 3920847711 IN IP4 203.0.113.10",
  "s=-",
  "c=IN IP4 203.0.113.10",
  "t=0 0",
  "m=audio 20000 RTP/AVP 0 8 9 101",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:8 PCMA/8000",
  "a=rtpmap:101 telephone-event/8000",
  "a=sendrecv",
  "",
].join("\r\n");

const inviteText = [
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
  "Content-Type: application/sdp",
  `Content-Length: ${Buffer.byteLength(sdp)}`,
  "",
  sdp,
].join("\r\n");

const okText = [
  "SIP/2.0 200 OK",
  "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKdg.1a2b3c4d5e6f.0",
  "Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK-524287-1---8a1d0f9c2b3e4d5f;rport=5060;received=203.0.113.10",
  "Record-Route: <sip:198.51.100.1;lr>",
  "To: <sip:+14255550100@sbc.example.com;user=phone>;tag=as5f3a2b71",
  'From: "Alice Example" <sip:+14255550199@carrier.example.net;user=phone>;tag=9fxced76sl',
  "Call-ID: 3848276298220188511@203.0.113.10",
  "CSeq: 1 INVITE",
  "Contact: <sip:+14255550100@192.0.2.50:5060>",
  "Content-Type: application/sdp",
  `Content-Length: ${Buffer.byteLength(sdp)}`,
  "",
  sdp,
].join("\r\n");

const invite = Buffer.from(inviteText, "latin1");
const ok = Buffer.from(okText, "latin1");

const uris = [
  "sip:+14255550100@sbc1.contoso.com:5061;user=phone;transport=tls",
  "sip:alice@contoso.com",
  "sips:bob@[2001:db8::10]:5061;transport=tcp",
  "sip:198.51.100.1;lr",
  "sip:%61lice@contoso.com;maddr=192.0.2.1?subject=project%20x",
  "sip:+14255550100;phone-context=+1@gw.example.com;user=phone",
];
const nameAddrs = [
  '"Alice Example" <sip:+14255550199@carrier.example.net;user=phone>;tag=9fxced76sl',
  "<sip:bob@contoso.com>",
  "sip:carol@contoso.com;tag=abc",
  '"Q\\"uoted" <sips:dave@[2001:db8::1]:5061>;tag=x1;expires=60',
];

const loggers = new Core.LoggerFactory();
loggers.builtinEnabled = false;
const log = loggers.getLogger("bench");

let sink = 0;

interface Reading {
  readonly branch: string | undefined;
  readonly fromTag: string | undefined;
  readonly fromUser: string | undefined;
  readonly toHost: string | undefined;
  readonly cseq: number | undefined;
  readonly callId: string | undefined;
  readonly contactHost: string | undefined;
}

function dialgateRead(bytes: Buffer): Reading {
  const r = parseSipMessage(bytes);
  if (!r.ok) throw new Error(r.error.reason);
  const m = r.message;
  const contact = m.contact;
  const first = contact === "*" || contact === undefined ? undefined : contact[0];
  const fromUri = m.from?.uri;
  const toUri = m.to?.uri;
  const contactUri = first?.uri;
  if (m instanceof SipRequest) sink += m.maxForwards ?? 0;
  return {
    branch: m.topVia?.branch ?? undefined,
    fromTag: m.from?.tag ?? undefined,
    fromUser: fromUri?.kind === "sip" ? (fromUri.user ?? undefined) : undefined,
    toHost: toUri?.kind === "sip" ? toUri.host : undefined,
    cseq: m.cseq?.seq,
    callId: m.callId,
    contactHost: contactUri?.kind === "sip" ? contactUri.host : undefined,
  };
}

function sipjsRead(text: string): Reading {
  const m = Core.Parser.parseMessage(text, log);
  if (m === undefined) throw new Error("sip.js: no message");
  const contact = m.parseHeader("contact") as Core.NameAddrHeader | undefined;
  if (m instanceof Core.IncomingRequestMessage) sink += Number(m.getHeader("max-forwards") ?? 0);
  return {
    branch: (m.via as { branch?: string }).branch,
    fromTag: m.fromTag,
    fromUser: m.from.uri.user,
    toHost: m.to.uri.host,
    cseq: m.cseq,
    callId: m.callId,
    contactHost: contact?.uri.host,
  };
}

function dialgateUri(u: string): string {
  const p = parseUri(u);
  if (p === undefined) return "(refused)";
  if (p.kind !== "sip") return `${p.kind}`;
  return `${p.scheme} ${p.user} ${p.host} ${p.port} ${[...p.params].map(([k, v]) => `${k}=${v}`).join(",")}`;
}

function sipjsUri(u: string): string {
  const p = Core.Grammar.URIParse(u);
  if (p === undefined) return "(refused)";
  const params = Object.entries(p.parameters as Record<string, string | null>).map(
    ([k, v]) => `${k}=${v ?? null}`,
  );
  return `${p.scheme} ${p.user ?? null} ${p.host} ${p.port ?? null} ${params.join(",")}`;
}

function measure(name: string, fn: () => void, seconds: number): number {
  for (let i = 0; i < 5_000; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 1_000; i++) fn();
    n += 1_000;
    elapsed = process.hrtime.bigint() - start;
  }
  const perSecond = n / (Number(elapsed) / 1e9);
  console.log(
    `${name.padEnd(46)} ${Math.round(perSecond).toLocaleString("en-US").padStart(10)} /s  (${(Number(elapsed) / 1e3 / n).toFixed(2)} µs each)`,
  );
  return perSecond;
}

const seconds = Number(process.env.BENCH_SECONDS ?? "3");
console.log(`dialgate vs sip.js parsers — node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"}`);
console.log(`${seconds} s per case\n`);

// Agreement first: a faster parser that reads something else would be no comparison.
let disagreements = 0;
for (const [label, bytes, text] of [
  ["INVITE", invite, inviteText],
  ["200 OK", ok, okText],
] as const) {
  const a = JSON.stringify(dialgateRead(bytes));
  const b = JSON.stringify(sipjsRead(text));
  if (a !== b) {
    disagreements++;
    console.log(`${label} read differently:\n  dialgate ${a}\n  sip.js   ${b}`);
  }
}
for (const u of uris) {
  const a = dialgateUri(u);
  const b = sipjsUri(u);
  if (a !== b) {
    disagreements++;
    console.log(`URI ${u}\n  dialgate ${a}\n  sip.js   ${b}`);
  }
}
console.log(disagreements === 0 ? "both read the same values\n" : `${disagreements} difference(s) above\n`);

const rows: [string, number, number][] = [];
const pair = (name: string, ours: () => void, theirs: () => void) => {
  const a = measure(`${name} — dialgate`, ours, seconds);
  const b = measure(`${name} — sip.js`, theirs, seconds);
  rows.push([name, a, b]);
};
pair(
  "INVITE parse + proxy reads",
  () => {
    sink += dialgateRead(invite).cseq ?? 0;
  },
  () => {
    sink += sipjsRead(inviteText).cseq ?? 0;
  },
);
pair(
  "200 OK parse + proxy reads",
  () => {
    sink += dialgateRead(ok).cseq ?? 0;
  },
  () => {
    sink += sipjsRead(okText).cseq ?? 0;
  },
);
pair(
  `URI parse (${uris.length} URIs)`,
  () => {
    for (const u of uris) sink += parseUri(u) === undefined ? 0 : 1;
  },
  () => {
    for (const u of uris) sink += Core.Grammar.URIParse(u) === undefined ? 0 : 1;
  },
);
pair(
  `name-addr parse (${nameAddrs.length} values)`,
  () => {
    for (const n of nameAddrs) sink += parseNameAddr(n) === undefined ? 0 : 1;
  },
  () => {
    for (const n of nameAddrs) sink += Core.Grammar.nameAddrHeaderParse(n) === undefined ? 0 : 1;
  },
);
console.log("\ncase                                    dialgate/sip.js");
for (const [name, a, b] of rows) console.log(`${name.padEnd(40)} ${(a / b).toFixed(1)}×`);
if (sink === 0) console.log("(unreachable)");
