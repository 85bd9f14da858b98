// Liberal in what it accepts (issue #15; RFC 3261 §8.2, §16.3, §18.3, §20.14; RFC 4475): requests
// that are well formed, only old-fashioned or unusual, are proxied or answered like any other,
// never refused with 400. Real sockets against the native edge; the gateway is SIPp, or a raw
// UDP socket where SIPp would not survive the bytes (a NUL inside a quoted-pair).
import { createSocket, type Socket } from "node:dgram";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { tortureCases } from "../sip/fixtures/torture-messages.js";
import { freeUdpPort, waitFor } from "../support/free-port.js";
import { type RawResponse, RawSipClient } from "../support/raw-sip-client.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { startTestProxy, type TestProxy } from "../support/test-proxy.js";
import { forward, loopbackTarget, serialSteps, TestRouter } from "../support/test-router.js";

let proxy: TestProxy;
let router: TestRouter;
const clients: RawSipClient[] = [];
const gateways: RawGateway[] = [];

beforeAll(async () => {
  router = new TestRouter();
  proxy = await startTestProxy({ router, timers: { t1Ms: 50, t4Ms: 500 } });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const g of gateways.splice(0)) g.close();
  await killAllSipp();
});
afterAll(async () => {
  await proxy.stop();
});

async function client(transport: "udp" | "tcp" = "udp"): Promise<RawSipClient> {
  const c = await RawSipClient.open(transport, proxy);
  clients.push(c);
  return c;
}

/** Joins header lines (latin1 strings or raw bytes) with CRLF, then the empty line and the body. */
function message(lines: readonly (string | Buffer)[], body = ""): Buffer {
  const parts: Buffer[] = [];
  for (const l of lines) parts.push(typeof l === "string" ? Buffer.from(l, "latin1") : l, CRLF);
  parts.push(CRLF, Buffer.from(body, "latin1"));
  return Buffer.concat(parts);
}
const CRLF = Buffer.from("\r\n");

const SDP = [
  "v=0",
  "o=oldphone 1979 1979 IN IP4 127.0.0.1",
  "s=-",
  "c=IN IP4 127.0.0.1",
  "t=0 0",
  "m=audio 49170 RTP/AVP 0",
  "a=rtpmap:0 PCMU/8000",
  "",
].join("\r\n");

/** Every status received so far for a CSeq method. */
function statuses(c: RawSipClient, method: string): number[] {
  return c.received.filter((r) => (r.header("CSeq") ?? "").endsWith(` ${method}`)).map((r) => r.status);
}

function finalFor(c: RawSipClient, method: string): Promise<RawResponse> {
  return c.response((r) => r.status >= 200 && (r.header("CSeq") ?? "").endsWith(` ${method}`));
}

/**
 * An RFC 2543 INVITE (RFC 4475 §3.4.1 has one like it): no branch in its Via, no Max-Forwards, no
 * Content-Length (over UDP the body runs to the end of the datagram, §18.3), no From tag, and a
 * From in addr-spec form whose `;user=phone` is therefore a header parameter.
 */
function rfc2543Invite(c: RawSipClient, uri: string, callId: string): Buffer {
  return message(
    [
      `INVITE ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${c.port}`,
      "From: sip:+14255550123@127.0.0.1;user=phone",
      `To: sip:${uri.slice(4)}`,
      `Call-ID: ${callId}`,
      "CSeq: 56 INVITE",
      `Contact: <sip:oldphone@127.0.0.1:${c.port}>`,
      "Content-Type: application/sdp",
    ],
    SDP,
  );
}

describe("an RFC 2543 INVITE (no branch, no Max-Forwards, no Content-Length over UDP)", () => {
  it("is proxied with Max-Forwards and Content-Length added, answered, ACKed and hung up", async () => {
    const uas = await SippProcess.start({ scenario: "uas-answer.xml" });
    router.script(() => forward(serialSteps([loopbackTarget(uas.port)])));
    const c = await client("udp");
    const uri = `sip:+14255550100@127.0.0.1:${proxy.port}`;
    const callId = "rfc2543-answered@127.0.0.1";
    c.send(rfc2543Invite(c, uri, callId));

    const ok = await finalFor(c, "INVITE");
    expect(statuses(c, "INVITE")).not.toContain(400);
    expect(ok.status).toBe(200);
    expect(statuses(c, "INVITE")).toContain(100);
    // The response goes back with the caller's own Via, untouched: still no branch.
    expect(ok.header("Via")).toMatch(new RegExp(`^SIP/2\\.0/UDP 127\\.0\\.0\\.1:${c.port}`));
    expect(ok.header("Via")).not.toMatch(/branch/);

    // What reached the gateway: §16.6 step 3's Max-Forwards 70, a Content-Length that matches the
    // body, the body itself, and the proxy's own branch-bearing Via above the caller's.
    const invite = uas.messagesSoFar().find((m) => m.direction === "received" && m.method === "INVITE");
    expect(invite).toBeDefined();
    expect(invite!.header("Max-Forwards")).toEqual(["70"]);
    expect(invite!.header("Content-Length")).toEqual([String(Buffer.byteLength(SDP))]);
    expect(invite!.text.endsWith(SDP.replace(/\r/g, "").trim())).toBe(true);
    const vias = invite!.header("Via");
    expect(vias[0]).toMatch(/;branch=z9hG4bK/);
    expect(vias[1]).toBe(`SIP/2.0/UDP 127.0.0.1:${c.port}`);

    // The ACK for the 2xx and the BYE, RFC 2543 style too (no branch, no Max-Forwards), along
    // the Record-Route set to the gateway's Contact.
    const route = ok.header("Record-Route") ?? "";
    const contact = /<([^>]+)>/.exec(ok.header("Contact") ?? "")?.[1] ?? "";
    const toWithTag = ok.header("To") ?? "";
    const inDialog = (method: string, cseq: number) =>
      message([
        `${method} ${contact} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${c.port}`,
        `Route: ${route}`,
        "From: sip:+14255550123@127.0.0.1;user=phone",
        `To: ${toWithTag}`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} ${method}`,
      ]);
    c.send(inDialog("ACK", 56));
    await waitFor(() => uas.messagesSoFar().some((m) => m.direction === "received" && m.method === "ACK"));
    c.send(inDialog("BYE", 57));
    expect((await finalFor(c, "BYE")).status).toBe(200);
    const gw = await uas.wait();
    expect(gw.exitCode, gw.errors).toBe(0);
    await proxy.settled();
  });

  it("is cancelled by an RFC 2543 CANCEL, and its ACK for the 487 is absorbed by the transaction", async () => {
    const uas = await SippProcess.start({ scenario: "uas-ring-no-answer.xml" });
    router.script(() => forward(serialSteps([loopbackTarget(uas.port)])));
    const c = await client("udp");
    const uri = `sip:+14255550101@127.0.0.1:${proxy.port}`;
    const callId = "rfc2543-cancelled@127.0.0.1";
    c.send(rfc2543Invite(c, uri, callId));
    await c.response((r) => r.status === 180);

    // §9.1 and §17.2.3's RFC 2543 rule: the CANCEL has the INVITE's Request-URI, top Via, From,
    // To, Call-ID and CSeq number; nothing else ties it to the INVITE.
    const sameAsInvite = (method: string, to: string) =>
      message([
        `${method} ${uri} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${c.port}`,
        "From: sip:+14255550123@127.0.0.1;user=phone",
        `To: ${to}`,
        `Call-ID: ${callId}`,
        `CSeq: 56 ${method}`,
      ]);
    c.send(sameAsInvite("CANCEL", `sip:${uri.slice(4)}`));
    expect((await finalFor(c, "CANCEL")).status).toBe(200);
    const terminated = await finalFor(c, "INVITE");
    expect(terminated.status).toBe(487);

    // The ACK for the 487 matches the INVITE transaction by the same rule (its To carries the
    // 487's tag): the transaction is confirmed, so the 487 is not retransmitted any more (Timer G
    // runs every T1 = 50 ms until then) and everything ends within T4 instead of Timer H.
    c.send(sameAsInvite("ACK", terminated.header("To") ?? ""));
    await new Promise((r) => setTimeout(r, 150));
    const count = statuses(c, "INVITE").filter((s) => s === 487).length;
    await new Promise((r) => setTimeout(r, 800));
    expect(statuses(c, "INVITE").filter((s) => s === 487).length).toBe(count);
    const gw = await uas.wait();
    expect(gw.exitCode, gw.errors).toBe(0);
    await proxy.settled();
  });
});

describe("a request whose method and URI use every character the grammar allows (RFC 4475 §3.1.1.2)", () => {
  // Our own values in the spirit of the RFC's "intmeth": a method of token characters, a
  // Request-URI whose user and password use every unreserved, user-unreserved and password
  // character, a branch and a header name of token characters, a Call-ID of word characters,
  // a To display name made of quoted-pairs of control characters (BEL, NUL, DEL) and a From
  // display name of several tokens with a quoted UTF-8 parameter.
  const method = "!odd-Verb9876543210_*+`.%surely'~";
  const user = "9_strange.User~(no-doubt!)&isn't+that$/wild?,/;;*";
  const requestUri = `sip:${user}:&so+is=9,this!*pa$s~w_rd.(isn't-it)@example.org`;
  const lines = (transport: "udp" | "tcp", c: RawSipClient) => [
    `${method} ${requestUri} SIP/2.0`,
    `Via: SIP/2.0/${transport.toUpperCase()} 127.0.0.1:${c.port};branch=z9hG4bK-.!%77*_+\`'~;rport`,
    Buffer.concat([
      Buffer.from('To: "bell:\\', "latin1"),
      Buffer.from([0x07]),
      Buffer.from(" nul:\\", "latin1"),
      Buffer.from([0x00]),
      Buffer.from(" del:\\", "latin1"),
      Buffer.from([0x7f]),
      Buffer.from(`" <sip:${user}@example.org>`, "latin1"),
    ]),
    Buffer.from(
      "From: word1~` word2'+_ word3*%!.- <sip:plain@example.org>;oddParam''~+*_!.-%=\"ĉiuj ŝanĝoj\";tag=_t~1'+`*%!-.",
      "utf8",
    ),
    "Call-ID: intmeth.w%QZ-!.*_+'@w`~)(><:\\/\"][?}{",
    `CSeq: 271828 ${method}`,
    "Max-Forwards: 255",
    Buffer.from("x-Extension-!.%*+_`'~: ﻿停電です", "utf8"),
    "Content-Length: 0",
  ];

  for (const transport of ["udp", "tcp"] as const) {
    it(`is answered 501 Not Implemented (out of dialog, unknown method), not 400, over ${transport}`, async () => {
      const c = await client(transport);
      c.send(message(lines(transport, c)));
      const r = await c.response();
      expect(`${r.status} ${r.reason}`).toBe("501 Not Implemented");
      expect(r.header("Allow")).toContain("INVITE");
      // §8.2.6.2: the response's To gets a tag, even though the To carries a quoted-pair NUL.
      expect(r.header("To")).toMatch(/;tag=\w+$/);
      expect(r.text).toContain("nul:\\\u0000 del:\\\u007f");
    });
  }
});

describe("quoted-pairs of control characters in a display name (RFC 3261 §25.1 quoted-pair)", () => {
  const from = Buffer.concat([
    Buffer.from('From: "\\', "latin1"),
    Buffer.from([0x19]),
    Buffer.from("esc \\", "latin1"),
    Buffer.from([0x01]),
    Buffer.from("\\", "latin1"),
    Buffer.from([0x0b]),
    Buffer.from("\\", "latin1"),
    Buffer.from([0x00]),
    Buffer.from('\\" caller" <sip:ctl@127.0.0.1>;tag=ctl1', "latin1"),
  ]);

  it("are accepted on an OPTIONS to the proxy, and the From comes back byte for byte", async () => {
    const c = await client("udp");
    c.send(
      message([
        `OPTIONS sip:127.0.0.1:${proxy.port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${c.port};branch=z9hG4bKctl-options;rport`,
        "Max-Forwards: 70",
        from,
        `To: <sip:127.0.0.1:${proxy.port}>`,
        "Call-ID: ctl-options@127.0.0.1",
        "CSeq: 1 OPTIONS",
        "Content-Length: 0",
      ]),
    );
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(r.text).toContain(from.toString("latin1"));
    expect(r.header("To")).toMatch(/;tag=\w+$/);
  });

  it("are accepted on an INVITE: forwarded intact, and the proxy's own ACK for a 486 carries them", async () => {
    const gw = await RawGateway.open(486, "Busy Here");
    router.script(() => forward(serialSteps([loopbackTarget(gw.port)])));
    const c = await client("udp");
    const uri = `sip:+14255550102@127.0.0.1:${proxy.port}`;
    c.send(
      message(
        [
          `INVITE ${uri} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${c.port};branch=z9hG4bKctl-invite;rport`,
          "Max-Forwards: 70",
          from,
          `To: <${uri}>`,
          "Call-ID: ctl-invite@127.0.0.1",
          "CSeq: 1 INVITE",
          `Contact: <sip:ctl@127.0.0.1:${c.port}>`,
          "Content-Type: application/sdp",
          `Content-Length: ${Buffer.byteLength(SDP)}`,
        ],
        SDP,
      ),
    );
    const busy = await finalFor(c, "INVITE");
    expect(busy.status).toBe(486);
    await waitFor(
      () => gw.requests.some((r) => r.startsWith("ACK ")),
      5_000,
      "the proxy's ACK at the gateway",
    );
    const invite = gw.requests.find((r) => r.startsWith("INVITE "))!;
    const ack = gw.requests.find((r) => r.startsWith("ACK "))!;
    expect(invite).toContain(from.toString("latin1"));
    expect(ack).toContain(`From: ${from.toString("latin1").slice("From: ".length)}`);
    c.send(
      message([
        `ACK ${uri} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${c.port};branch=z9hG4bKctl-invite;rport`,
        "Max-Forwards: 70",
        from,
        `To: ${busy.header("To")}`,
        "Call-ID: ctl-invite@127.0.0.1",
        "CSeq: 1 ACK",
        "Content-Length: 0",
      ]),
    );
    await proxy.settled(5_000);
  });
});

describe("RFC 4475's messages (our own, test/sip/fixtures/torture-messages.ts) at the edge", () => {
  // Valid requests reach the router, which answers them all alike here; the edge answers the
  // rest itself, as RFC 4475 recommends for a proxy (400, 416, 420, 501, 505...).
  const routed = { kind: "respond", status: 480, reason: "Routed by the test" } as const;

  for (const c of tortureCases) {
    if (c.edge === undefined) continue;
    // Over TCP the response goes back on the connection whatever the fixture's Via says; a case
    // that only makes sense in a datagram has its top Via's sent-by pointed at the test socket.
    // Cases built on the same base request get a branch of their own, or the INVITEs among
    // them would be retransmissions of each other's transactions.
    const transport = c.datagramOnly ? "udp" : "tcp";
    const answer = c.edge === "routed" ? "reaches the router" : `is answered ${c.edge}`;
    it(`${c.id} (${c.source}) over ${transport} ${answer}`, async () => {
      router.script(() => routed);
      const client_ = await client(transport);
      let text = c.bytes
        .toString("latin1")
        .replaceAll("branch=z9hG4bKbase01", `branch=z9hG4bKbase01.${c.id}`);
      if (transport === "udp") {
        const sentBy = "Via: SIP/2.0/UDP 198.51.100.7:5060";
        expect(text.includes(sentBy), "the case's Via to point at the test socket").toBe(true);
        text = text.replace(sentBy, `Via: SIP/2.0/UDP 127.0.0.1:${client_.port}`);
      }
      const bytes = Buffer.from(text, "latin1");
      const asked = router.requests.length;
      client_.send(bytes);
      const r = await client_.response();
      if (c.edge === "routed") {
        expect(`${r.status} ${r.reason}`).toBe("480 Routed by the test");
        expect(router.requests.length).toBe(asked + 1);
      } else {
        expect(r.status).toBe(c.edge);
        expect(router.requests.length).toBe(asked);
      }
    });
  }
});

describe("stray responses (RFC 4475 §3.3.10, RFC 3261 §16.7, RFC 6026)", () => {
  /** RFC 4475's bcast, with the proxy's own Via on top (as it would come back from downstream). */
  function stray(status: string, method: string, secondVia: string, callId: string): Buffer {
    const bcast = tortureCases.find((c) => c.id === "bcast")!.bytes.toString("latin1");
    return Buffer.from(
      bcast
        .replace("SIP/2.0 200 OK", `SIP/2.0 ${status}`)
        .replace("CSeq: 35 INVITE", `CSeq: 35 ${method}`)
        .replace("bcast.0293lkjfaskdmlakjdfl@192.0.2.198", callId)
        .replace("Via: SIP/2.0/UDP 192.0.2.198;", `Via: SIP/2.0/UDP 127.0.0.1:${proxy.port};`)
        .replace("255.255.255.255", secondVia),
      "latin1",
    );
  }

  it("are not forwarded to a broadcast Via, nor when not a 2xx to an INVITE; a 2xx to one host is", async () => {
    const downstream = await client("udp");
    const upstream = await client("udp");
    const here = `127.0.0.1:${upstream.port}`;
    // The faithful case: its next Via is the broadcast address. Dropped (the forwarder refuses
    // it: test/native/stateless-forwarder.test.ts), and the edge goes on.
    downstream.send(stray("200 OK", "INVITE", "255.255.255.255", "bcast.1@192.0.2.198"));
    // Neither a final non-2xx nor a 2xx to a non-INVITE with no transaction goes anywhere.
    downstream.send(stray("486 Busy Here", "INVITE", here, "bcast.2@192.0.2.198"));
    downstream.send(stray("200 OK", "OPTIONS", here, "bcast.3@192.0.2.198"));
    // A 2xx to an INVITE with no transaction left is forwarded statelessly to its next Via.
    downstream.send(stray("200 OK", "INVITE", here, "bcast.4@192.0.2.198"));
    const forwarded = await upstream.response();
    expect(forwarded.header("Call-ID")).toBe("bcast.4@192.0.2.198");
    await new Promise((r) => setTimeout(r, 300));
    expect(upstream.received.map((r) => r.header("Call-ID"))).toEqual(["bcast.4@192.0.2.198"]);
    expect(downstream.received).toEqual([]);
  });
});

/**
 * A gateway on a raw UDP socket: answers every INVITE with `status` (copying Via, From, To,
 * Call-ID and CSeq as bytes, so nothing is re-encoded), and records every request it got
 * (latin1 text, one character per byte).
 */
class RawGateway {
  readonly requests: string[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {}

  static async open(status: number, reason: string): Promise<RawGateway> {
    const port = await freeUdpPort();
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(port, "127.0.0.1", () => resolve()));
    const gw = new RawGateway(socket, port);
    gateways.push(gw);
    socket.on("message", (data, peer) => {
      const text = data.toString("latin1");
      gw.requests.push(text);
      if (!text.startsWith("INVITE ")) return;
      const head = text.slice(0, text.indexOf("\r\n\r\n")).split("\r\n").slice(1);
      const copied = head.filter((l) => /^(via|from|to|call-id|cseq):/i.test(l));
      const withTag = copied.map((l) => (/^to:/i.test(l) ? `${l};tag=gw${port}` : l));
      const response = [`SIP/2.0 ${status} ${reason}`, ...withTag, "Content-Length: 0", "", ""].join("\r\n");
      socket.send(Buffer.from(response, "latin1"), peer.port, peer.address);
    });
    return gw;
  }

  close(): void {
    this.socket.close();
  }
}
