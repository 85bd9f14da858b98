// Who the edge is on the wire (edge-addressing.ts): the Record-Route it writes for SIPS
// requests (RFC 3261 §16.6 step 4, RFC 5630) and where a response goes once the connection its
// request came on is gone (§18.2.2: 5061 for TLS).
import { describe, expect, it } from "vitest";
import { parseSipMessage, SipRequest } from "../../src/sip/index.js";
import { LocalIdentity, responseDestination } from "../../src/sip/native/edge-addressing.js";
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
