// SIP over TLS, what the proxy writes and where it sends (issue #15 audit): sips: requests never
// leave over a non-TLS hop and are record-routed with a SIPS URI (RFC 3261 §16.6 step 4, RFC
// 5630); dialgate's own Via carries RFC 5923 `alias`, and a gateway that sends requests back on
// the connection dialgate opened is known by the certificate dialgate checked. Gateways and
// clients are Node TLS sockets (test/support/tls-peer.ts); certificates come from a throwaway CA
// made at setup.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RouteTarget } from "../../src/routing/decision.js";
import { waitFor } from "../support/free-port.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { type IssuedCertificate, issueTlsTestCertificates, type TestPki } from "../support/test-pki.js";
import { startTestProxy, type TestProxy } from "../support/test-proxy.js";
import { forward, serialSteps, TestRouter } from "../support/test-router.js";
import {
  answerInvites,
  closeAllTlsPeers,
  finalStatus,
  headerValues,
  openTlsClient,
  responseTo,
  TlsSipGateway,
  tlsGatewayTarget,
} from "../support/tls-peer.js";

let pki: TestPki;
let dialgateCert: IssuedCertificate;
let gatewayCert: IssuedCertificate;
let proxy: TestProxy | null = null;
const cleanups: (() => unknown)[] = [];

beforeAll(() => {
  ({ pki, dialgate: dialgateCert, gateway: gatewayCert } = issueTlsTestCertificates());
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await closeAllTlsPeers();
  await killAllSipp();
  await proxy?.stop();
  proxy = null;
});
afterAll(killAllSipp);

const fastTimers = { t1Ms: 100, t4Ms: 500 };

/** A TLS connection to the proxy that trusts the test CA. */
function tlsClient(options: { cert?: IssuedCertificate } = {}) {
  return openTlsClient({ port: proxy!.tlsPort, caFile: pki.caFile, ...options });
}

function inviteRequest(id: string, requestUri: string): string {
  return [
    `INVITE ${requestUri} SIP/2.0`,
    `Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK${id};rport`,
    "Max-Forwards: 70",
    `From: <sips:caller@dialgate.test>;tag=${id}`,
    `To: <${requestUri}>`,
    `Call-ID: ${id}@test`,
    "CSeq: 1 INVITE",
    "Contact: <sips:caller@127.0.0.1:5061>",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

describe("sips: requests (RFC 3261 §16.6 step 4, RFC 5630)", () => {
  it("never sends a sips: request over a non-TLS hop and record-routes it with a SIPS URI", async () => {
    const udp: UdpSocket = createSocket("udp4");
    const udpReceived: string[] = [];
    udp.on("message", (d) => udpReceived.push(d.toString("latin1")));
    await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", () => resolve()));
    cleanups.push(() => udp.close());
    const udpPort = udp.address().port;
    const udpTarget: RouteTarget = {
      requestUri: `sip:+14255550100@127.0.0.1:${udpPort};user=phone`,
      destination: { host: "127.0.0.1", port: udpPort, transport: "udp" },
      label: "udp-gw",
      gateway: "udp-gw.test",
    };
    const gw = await TlsSipGateway.start(gatewayCert, answerInvites("486 Busy Here"));
    const router = new TestRouter(() =>
      forward(serialSteps([udpTarget, tlsGatewayTarget("sbc1.tls.test", gw.port)])),
    );
    proxy = await startTestProxy({
      router,
      timers: fastTimers,
      tls: { ...dialgateCert, caFile: pki.caFile, verifyGateways: true },
    });
    const caller = await tlsClient({});
    caller.socket.write(inviteRequest("sips1", `sips:+14255550100@127.0.0.1:${proxy.tlsPort}`));
    await waitFor(() => finalStatus(caller.messages) !== undefined, 10_000, "the caller's final response");

    // The UDP gateway was skipped as a transport failure; the TLS one took the call.
    expect(finalStatus(caller.messages)).toBe(486);
    expect(udpReceived).toEqual([]);
    expect(proxy.events.find((e) => e.type === "attempt-failed")).toMatchObject({
      cause: "transport",
      step: 0,
    });
    const invite = gw.requests("INVITE")[0]!.text;
    expect(headerValues(invite, "Record-Route")).toEqual([`<sips:127.0.0.1:${proxy.tlsPort};lr>`]);
    expect(headerValues(invite, "Via")[0]).toMatch(/^SIP\/2\.0\/TLS /);

    // With no TLS hop at all the call is refused rather than downgraded.
    router.script(() => forward(serialSteps([udpTarget])));
    const second = await tlsClient({});
    second.socket.write(inviteRequest("sips2", `sips:+14255550100@127.0.0.1:${proxy.tlsPort}`));
    await waitFor(
      () => finalStatus(second.messages) !== undefined,
      10_000,
      "the second caller's final response",
    );
    expect(finalStatus(second.messages)).toBe(503);
    expect(udpReceived).toEqual([]);
  });
});

describe("RFC 5923 on connections dialgate opens", () => {
  it("puts alias in its Via, and a gateway's requests back on that connection carry its certificate names", async () => {
    let gwPort = 0;
    const gw = await TlsSipGateway.start(gatewayCert, (m) => {
      if (m.text.startsWith("INVITE "))
        m.socket.write(
          responseTo(m.text, "200 OK", "gw1", [`Contact: <sip:gw@127.0.0.1:${gwPort};transport=tls>`]),
        );
    });
    gwPort = gw.port;
    const router = new TestRouter(() => forward(serialSteps([tlsGatewayTarget("sbc1.tls.test", gw.port)])));
    proxy = await startTestProxy({
      router,
      timers: fastTimers,
      tls: { ...dialgateCert, caFile: pki.caFile, verifyGateways: true },
    });
    // A UDP caller that waits for the callee's BYE.
    const uac = await SippProcess.start({ scenario: "uac-call-callee-hangs-up.xml", remote: proxy });
    await waitFor(() => gw.requests("ACK").length === 1, 15_000, "the ACK at the gateway");
    const invite = gw.requests("INVITE")[0]!;
    expect(headerValues(invite.text, "Via")[0]).toMatch(
      new RegExp(`^SIP/2\\.0/TLS 127\\.0\\.0\\.1:${proxy.tlsPort};branch=[^;]+;rport;alias$`),
    );

    // The gateway sends on the connection dialgate opened: an OPTIONS, then the BYE.
    const via = `Via: SIP/2.0/TLS sbc1.tls.test:${gw.port};branch=z9hG4bK`;
    invite.socket.write(
      [
        `OPTIONS sip:127.0.0.1:${proxy.tlsPort} SIP/2.0`,
        `${via}gwopt1;rport`,
        "Max-Forwards: 70",
        "From: <sip:probe@sbc1.tls.test>;tag=o1",
        `To: <sip:127.0.0.1:${proxy.tlsPort}>`,
        "Call-ID: gwopt1@sbc1.tls.test",
        "CSeq: 1 OPTIONS",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n"),
    );
    await waitFor(() => router.requests.some((r) => r.method === "OPTIONS"), 10_000, "the OPTIONS routed");
    expect(router.requests.find((r) => r.method === "OPTIONS")?.source).toMatchObject({
      transport: "tls",
      certificateNames: ["sbc1.tls.test"],
    });

    const header = (name: string) => headerValues(invite.text, name)[0] ?? "";
    const callerContact = /<([^>]+)>/.exec(header("Contact"))?.[1] ?? "";
    invite.socket.write(
      [
        `BYE ${callerContact} SIP/2.0`,
        `${via}gwbye1;rport`,
        ...headerValues(invite.text, "Record-Route").map((rr) => `Route: ${rr}`),
        "Max-Forwards: 70",
        `From: ${header("To")};tag=gw1`,
        `To: ${header("From")}`,
        `Call-ID: ${header("Call-ID")}`,
        "CSeq: 1 BYE",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n"),
    );
    const result = await uac.wait();
    expect(result.exitCode, result.errors).toBe(0);
    await waitFor(
      () => gw.messages.some((m) => m.text.startsWith("SIP/2.0 200") && /CSeq: 1 BYE/i.test(m.text)),
      10_000,
      "the BYE's 200 back at the gateway",
    );
    // Every message in both directions used the one connection dialgate opened.
    expect(new Set(gw.messages.map((m) => m.socket)).size).toBe(1);
  });
});
