// Who the edge is on the wire (edge-addressing.ts): the Record-Route it writes for SIPS
// requests (RFC 3261 §16.6 step 4, RFC 5630) and where a response goes once the connection its
// request came on is gone (§18.2.2: 5061 for TLS).
import { describe, expect, it } from "vitest";
import { parseSipMessage, SipRequest } from "../../src/sip/index.js";
import { LocalIdentity, responseDestination } from "../../src/sip/native/edge-addressing.js";
import { preprocessRoutes } from "../../src/sip/native/route-preprocessing.js";
import type { MessageSource } from "../../src/sip/native/transport-types.js";

function topVia(via: string) {
  const text = [
    "OPTIONS sip:127.0.0.1 SIP/2.0",
    `Via: ${via}`,
    "Max-Forwards: 70",
    "From: <sip:a@example.com>;tag=1",
    "To: <sip:b@example.com>",
    "Call-ID: c@example.com",
    "CSeq: 1 OPTIONS",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
  const r = parseSipMessage(Buffer.from(text));
  if (!r.ok || !(r.message instanceof SipRequest) || r.message.topVia === undefined)
    throw new Error("fixture does not parse");
  return r.message.topVia;
}

const source = (transport: MessageSource["transport"]): MessageSource => ({
  address: "192.0.2.7",
  port: 40001,
  transport,
  connectionId: transport === "udp" ? null : 3,
  local: { transport, host: "192.0.2.1", port: transport === "tls" ? 5061 : 5060 },
});

describe("responseDestination (RFC 3261 §18.2.2)", () => {
  it("falls back to port 5061 for TLS and 5060 for TCP when the sent-by has no port", () => {
    expect(
      responseDestination(topVia("SIP/2.0/TLS client.example.com;branch=z9hG4bK1"), source("tls")),
    ).toEqual({
      host: "192.0.2.7",
      port: 5061,
      transport: "tls",
    });
    expect(
      responseDestination(topVia("SIP/2.0/TCP client.example.com;branch=z9hG4bK2"), source("tcp")),
    ).toEqual({
      host: "192.0.2.7",
      port: 5060,
      transport: "tcp",
    });
    expect(
      responseDestination(topVia("SIP/2.0/TLS client.example.com:5071;branch=z9hG4bK3"), source("tls")).port,
    ).toBe(5071);
  });
});

describe("Record-Route (RFC 3261 §16.6 step 4, RFC 5630)", () => {
  const us = new LocalIdentity("proxy.example.com");
  const tls = { transport: "tls", host: "0.0.0.0", port: 5061 } as const;
  const udp = { transport: "udp", host: "0.0.0.0", port: 5060 } as const;

  it("is a SIPS URI without transport parameter for a SIPS request over TLS", () => {
    expect(us.recordRouteFor(tls, true)).toBe("<sips:proxy.example.com:5061;lr>");
  });

  it("keeps transport=tls in a sip: URI over TLS, and plain sip: elsewhere", () => {
    expect(us.recordRouteFor(tls)).toBe("<sip:proxy.example.com:5061;transport=tls;lr>");
    expect(us.recordRouteFor(udp, true)).toBe("<sip:proxy.example.com:5060;lr>");
    expect(us.recordRouteFor(udp)).toBe("<sip:proxy.example.com:5060;lr>");
  });
});

describe("our own Route values without a port (RFC 3261 §19.1.2)", () => {
  const us = new LocalIdentity("proxy.example.com");
  us.learn([
    { transport: "udp", host: "0.0.0.0", port: 5060 },
    { transport: "tls", host: "0.0.0.0", port: 5061 },
  ]);

  function request(route: string): SipRequest {
    const text = [
      "BYE sips:bob@client.example.com SIP/2.0",
      "Via: SIP/2.0/TLS client.example.com;branch=z9hG4bK9",
      `Route: ${route}`,
      "Max-Forwards: 70",
      "From: <sips:a@example.com>;tag=1",
      "To: <sips:b@example.com>;tag=2",
      "Call-ID: c@example.com",
      "CSeq: 2 BYE",
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n");
    const r = parseSipMessage(Buffer.from(text));
    if (!r.ok || !(r.message instanceof SipRequest)) throw new Error("fixture does not parse");
    return r.message;
  }

  it("takes a sips: Route without a port as ours on 5061, and a sip: one as 5060", () => {
    const sips = request("<sips:proxy.example.com;lr>");
    expect(preprocessRoutes(sips, us)).toBe(true);
    expect(sips.routes).toHaveLength(0);
    const sip = request("<sip:proxy.example.com;lr>");
    expect(preprocessRoutes(sip, us)).toBe(true);
  });

  it("does not take a sips: Route without a port as ours when only 5060 is bound", () => {
    const udpOnly = new LocalIdentity("proxy.example.com");
    udpOnly.learn([{ transport: "udp", host: "0.0.0.0", port: 5060 }]);
    const sips = request("<sips:proxy.example.com;lr>");
    expect(preprocessRoutes(sips, udpOnly)).toBe(false);
    expect(sips.routes).toHaveLength(1);
  });
});
