// Worker dispatch on the shared UDP port (src/cluster/shared-port-dispatch.ts), with real UDP
// sockets: two workers' transports in one process. A datagram read on the shared port by a
// worker that does not own its Call-ID reaches the owner with its original source; the owner's
// reply goes out on its shared socket; forged envelopes are dropped.
import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { ownerOf, rawCallId } from "../../src/cluster/call-id-hash.js";
import { SharedPortDispatch } from "../../src/cluster/shared-port-dispatch.js";
import type { InboundMessage, TransportHandlers } from "../../src/sip/native/transport-types.js";
import { UdpTransport } from "../../src/sip/native/udp-transport.js";
import { waitFor } from "../support/free-port.js";

const open: (UdpTransport | Socket)[] = [];
afterEach(async () => {
  for (const x of open.splice(0)) {
    if (x instanceof UdpTransport) await x.close();
    else x.close();
  }
});

function handlers(into: InboundMessage[]): TransportHandlers {
  return { onMessage: (m) => into.push(m), onStreamError: () => {}, onError: () => {} };
}

/** A Call-ID owned by worker `owner` of 2. */
function callIdOwnedBy(owner: number): string {
  for (let i = 0; ; i++) if (ownerOf(`call-${i}@test`, 2) === owner) return `call-${i}@test`;
}

const invite = (callId: string) =>
  Buffer.from(
    [
      "INVITE sip:bob@127.0.0.1 SIP/2.0",
      "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKtest;rport",
      "From: <sip:alice@127.0.0.1>;tag=a",
      "To: <sip:bob@127.0.0.1>",
      `Call-ID: ${callId}`,
      "CSeq: 1 INVITE",
      "Max-Forwards: 70",
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
    "latin1",
  );

async function twoWorkers() {
  const got: [InboundMessage[], InboundMessage[]] = [[], []];
  const transports = [new UdpTransport(handlers(got[0])), new UdpTransport(handlers(got[1]))];
  open.push(...transports);
  // Each worker's own port first (it is the one messages leave from), then its "shared" one;
  // in a real cluster the shared socket is one socket in every worker, here each has its own.
  const own = [
    await transports[0]!.listen({ transport: "udp", host: "127.0.0.1", port: 0 }, { exclusive: true }),
    await transports[1]!.listen({ transport: "udp", host: "127.0.0.1", port: 0 }, { exclusive: true }),
  ];
  const shared = [
    await transports[0]!.listen({ transport: "udp", host: "127.0.0.1", port: 0 }, { shared: true }),
    await transports[1]!.listen({ transport: "udp", host: "127.0.0.1", port: 0 }, { shared: true }),
  ];
  const udp = own.map((o) => ({ v4: o.port, v6: null }));
  const relayHost = { v4: "127.0.0.1", v6: "::1" };
  transports.forEach((t, index) =>
    t.setDispatch(new SharedPortDispatch({ index, udp, relayHost, token: "s3cret" })),
  );
  const peer = createSocket("udp4");
  open.push(peer);
  const replies: Buffer[] = [];
  peer.on("message", (d) => replies.push(d));
  await new Promise<void>((r) => peer.bind(0, "127.0.0.1", () => r()));
  return { got, transports, own, shared, peer, replies };
}

describe("shared-port dispatch", () => {
  it("reads the Call-ID from raw bytes, compact form included", () => {
    expect(rawCallId(invite("abc@host"))).toBe("abc@host");
    expect(rawCallId(Buffer.from("OPTIONS sip:x SIP/2.0\r\ni:  short@form \r\n\r\n"))).toBe("short@form");
    expect(rawCallId(Buffer.from("OPTIONS sip:x SIP/2.0\r\n\r\nCall-ID: in-body\r\n"))).toBeNull();
  });

  it("relays a datagram to the worker owning its Call-ID, with the original source", async () => {
    const w = await twoWorkers();
    const foreign = callIdOwnedBy(1);
    const mine = callIdOwnedBy(0);
    w.peer.send(invite(foreign), w.shared[0]!.port, "127.0.0.1");
    w.peer.send(invite(mine), w.shared[0]!.port, "127.0.0.1");
    await waitFor(() => w.got[0].length === 1 && w.got[1].length === 1, 10_000, "both datagrams handled");
    const relayed = w.got[1][0]!;
    expect(rawCallId(relayed.data)).toBe(foreign);
    expect(relayed.data.equals(invite(foreign))).toBe(true);
    expect(relayed.source.address).toBe("127.0.0.1");
    expect(relayed.source.port).toBe(w.peer.address().port);
    // It counts as arrived on the owner's shared socket: replies leave from there (RFC 3581).
    expect(relayed.source.local.port).toBe(w.shared[1]!.port);
    expect(rawCallId(w.got[0][0]!.data)).toBe(mine);

    w.transports[1]!.send(
      { host: relayed.source.address, port: relayed.source.port, transport: "udp" },
      Buffer.from("SIP/2.0 100 Trying\r\n\r\n"),
      () => {},
      relayed.source.local,
    );
    await waitFor(() => w.replies.length === 1, 10_000, "the reply");
  });

  it("drops an envelope without the cluster's token, and handles plain SIP on a worker's own port", async () => {
    const w = await twoWorkers();
    const forged = Buffer.concat([Buffer.from("\0DGR1 guess 192.0.2.1 5060\n", "latin1"), invite("x@y")]);
    w.peer.send(forged, w.own[1]!.port, "127.0.0.1");
    w.peer.send(invite(callIdOwnedBy(0)), w.own[1]!.port, "127.0.0.1");
    await waitFor(() => w.got[1].length === 1, 10_000, "the plain datagram");
    // The plain one was handled where it arrived (own ports are never re-dispatched).
    expect(w.got[1][0]!.source.port).toBe(w.peer.address().port);
    expect(w.got[1][0]!.source.local.port).toBe(w.own[1]!.port);
    expect(w.got[0]).toEqual([]);
  });
});
