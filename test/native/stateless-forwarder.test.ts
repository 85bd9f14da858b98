// The stateless forwarder (src/sip/native/stateless-forwarder.ts) never sends what a stray
// message names as a broadcast or multicast next hop (RFC 4475 §3.3.10: "proxies should drop
// such responses"): one datagram from an attacker must not become one per host of a network.
// The transport is a recorder here, since no test may send to such an address.
import { describe, expect, it } from "vitest";
import { parseSipMessage, SipRequest, SipResponse } from "../../src/sip/index.js";
import { upstreamCopy } from "../../src/sip/native/caller-view.js";
import { LocalIdentity } from "../../src/sip/native/edge-addressing.js";
import { StatelessForwarder } from "../../src/sip/native/stateless-forwarder.js";
import type { TransportLayer } from "../../src/sip/native/transport-layer.js";
import type { Destination } from "../../src/sip/native/transport-types.js";
import { isUnicastHost } from "../../src/sip/native/unicast-host.js";
import { silentLogger } from "../../src/util/logger.js";
import { tortureCases } from "../sip/fixtures/torture-messages.js";

function forwarder(): { forwarder: StatelessForwarder; sent: Destination[] } {
  const sent: Destination[] = [];
  const transport = {
    send: (dest: Destination) => sent.push(dest),
    localFor: (dest: Destination) => ({ transport: dest.transport, host: "127.0.0.1", port: 5060 }),
  } as unknown as TransportLayer;
  const us = new LocalIdentity("127.0.0.1");
  us.learn([{ transport: "udp", host: "127.0.0.1", port: 5060 }]);
  return { forwarder: new StatelessForwarder(transport, us, silentLogger()), sent };
}

/** RFC 4475's bcast with our own Via on top, as it reaches the proxy's stray-response path. */
function bcastFromBelow(secondVia: string): SipResponse {
  const bcast = tortureCases.find((c) => c.id === "bcast")!.bytes.toString("latin1");
  const text = bcast
    .replace("Via: SIP/2.0/UDP 192.0.2.198;", "Via: SIP/2.0/UDP 127.0.0.1:5060;")
    .replace("255.255.255.255", secondVia);
  const r = parseSipMessage(Buffer.from(text, "latin1"));
  if (!r.ok || !(r.message instanceof SipResponse)) throw new Error("bcast does not parse");
  return r.message;
}

describe("stateless forwarding to broadcast and multicast addresses", () => {
  it("drops a stray 2xx whose next Via is the broadcast address (RFC 4475 §3.3.10)", () => {
    const { forwarder: f, sent } = forwarder();
    f.forwardResponse(upstreamCopy(bcastFromBelow("255.255.255.255"), null));
    f.forwardResponse(upstreamCopy(bcastFromBelow("239.1.2.3"), null));
    f.forwardResponse(upstreamCopy(bcastFromBelow("[ff02::1]"), null));
    expect(sent).toEqual([]);
    // The same response towards one host goes (§16.7: a 2xx with no transaction left).
    f.forwardResponse(upstreamCopy(bcastFromBelow("192.0.2.77"), null));
    expect(sent).toEqual([{ host: "192.0.2.77", port: 5060, transport: "udp" }]);
  });

  it("drops an ACK routed through us whose next hop is a multicast address (maddr too)", () => {
    const { forwarder: f, sent } = forwarder();
    const ack = (host: string) => {
      const r = parseSipMessage(
        Buffer.from(
          [
            `ACK sip:bob@${host} SIP/2.0`,
            "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKack1",
            "Route: <sip:127.0.0.1:5060;lr>",
            "Max-Forwards: 70",
            "From: <sip:a@example.com>;tag=1",
            "To: <sip:bob@example.com>;tag=2",
            "Call-ID: ack-mc@192.0.2.9",
            "CSeq: 1 ACK",
            "Content-Length: 0",
            "",
            "",
          ].join("\r\n"),
        ),
      );
      if (!r.ok || !(r.message instanceof SipRequest)) throw new Error("ACK does not parse");
      return r.message;
    };
    f.forwardAck(ack("224.0.0.1"));
    f.forwardAck(ack("192.0.2.10;maddr=239.0.0.7"));
    expect(sent).toEqual([]);
    f.forwardAck(ack("192.0.2.10"));
    expect(sent.map((d) => d.host)).toEqual(["192.0.2.10"]);
  });

  it("tells one host from many", () => {
    for (const h of [
      "255.255.255.255",
      "224.0.0.1",
      "239.255.255.250",
      "240.0.0.1",
      "0.0.0.0",
      "ff02::1",
      "::",
      "::ffff:255.255.255.255",
    ])
      expect(isUnicastHost(h), h).toBe(false);
    for (const h of [
      "127.0.0.1",
      "192.0.2.255",
      "223.255.255.254",
      "::1",
      "2001:db8::1",
      "::ffff:10.0.0.1",
      "sbc.example.com",
    ])
      expect(isUnicastHost(h), h).toBe(true);
  });
});
