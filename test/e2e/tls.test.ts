// SIP over TLS end to end (RFC 3261 §26, issue #15): SIPp behind stunnel4 on both sides (Debian's
// SIPp has no TLS), certificates from a throwaway CA made at setup. Proves a call
// UAC →TLS→ dialgate →TLS→ gateway, failover past a gateway whose certificate does not match its
// FQDN (nothing sent in clear), and mutual TLS refusing a client without a certificate.

import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { dialgateConfigSchema } from "../../src/config/schema.js";
import type { RouteTarget } from "../../src/routing/decision.js";
import { freeSipPort, freeTcpPort, waitFor } from "../support/free-port.js";
import { RawSipClient, rawRequest } from "../support/raw-sip-client.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { startStunnel, stopAllStunnel } from "../support/stunnel.js";
import { type IssuedCertificate, issueTlsTestCertificates, type TestPki } from "../support/test-pki.js";
import { startTestProxy, type TestProxy } from "../support/test-proxy.js";
import { forward, serialSteps, TestRouter } from "../support/test-router.js";
import { optionsOverTls } from "../support/tls-peer.js";

let pki: TestPki;
let dialgateCert: IssuedCertificate;
let gatewayCert: IssuedCertificate;
let wrongCert: IssuedCertificate;
let proxy: TestProxy | null = null;

beforeAll(() => {
  ({ pki, dialgate: dialgateCert, gateway: gatewayCert, wrong: wrongCert } = issueTlsTestCertificates());
});

afterEach(async () => {
  await killAllSipp();
  await stopAllStunnel();
  await proxy?.stop();
  proxy = null;
});
afterAll(async () => {
  await killAllSipp();
  await stopAllStunnel();
});

const fastTimers = { t1Ms: 100, t4Ms: 500 };

function tlsGatewayTarget(fqdn: string, port: number): RouteTarget {
  return {
    requestUri: `sip:+14255550100@${fqdn}:${port};user=phone`,
    destination: { host: "127.0.0.1", port, transport: "tls" },
    label: fqdn,
    gateway: fqdn,
  };
}

/** A SIPp UAS behind a stunnel TLS server presenting `cert`. */
async function tlsGateway(name: string, cert: IssuedCertificate) {
  const sippPort = await freeSipPort();
  const tunnel = await startStunnel([
    { name, client: false, connectPort: sippPort, certFile: cert.certFile, keyFile: cert.keyFile },
  ]);
  const tlsPort = tunnel.ports[name]!;
  const uas = await SippProcess.start({
    scenario: "uas-answer-tls.xml",
    transport: "tcp",
    port: sippPort,
    keys: { contact_port: String(tlsPort) },
  });
  return { uas, tlsPort, tunnel };
}

describe("SIP over TLS", () => {
  it("carries a call UAC →TLS→ dialgate →TLS→ gateway, with TLS in Via and Record-Route", async () => {
    const gw = await tlsGateway("sbc1", gatewayCert);
    const router = new TestRouter(() =>
      forward(serialSteps([tlsGatewayTarget("sbc1.tls.test", gw.tlsPort)])),
    );
    proxy = await startTestProxy({
      router,
      timers: fastTimers,
      tls: { ...dialgateCert, caFile: pki.caFile, verifyGateways: true },
    });
    // The caller's side: SIPp over TCP into a stunnel client that checks dialgate's certificate.
    const caller = await startStunnel([
      {
        name: "uac",
        client: true,
        connectPort: proxy.tlsPort,
        caFile: pki.caFile,
        checkHost: "dialgate.test",
      },
    ]);
    const uac = await SippProcess.start({
      scenario: "uac-call.xml",
      transport: "tcp",
      remote: { host: "127.0.0.1", port: caller.ports.uac! },
    });
    const [a, b] = await Promise.all([uac.wait(), gw.uas.wait()]);
    expect(a.exitCode, a.errors + a.stderr).toBe(0);
    expect(b.exitCode, b.errors + b.stderr).toBe(0);

    expect(router.requests[0]?.source.transport).toBe("tls");
    const invite = b.messages.find((m) => m.direction === "received" && m.method === "INVITE")!;
    expect(invite.requestUri).toBe(`sip:+14255550100@sbc1.tls.test:${gw.tlsPort};user=phone`);
    expect(invite.header("via")[0]).toMatch(new RegExp(`^SIP/2\\.0/TLS 127\\.0\\.0\\.1:${proxy.tlsPort};`));
    expect(recordRoutes(invite)).toEqual([`<sip:127.0.0.1:${proxy.tlsPort};transport=tls;lr>`]);
    // The ACK and BYE came to the gateway over TLS too (through its terminator).
    const inDialog = b.messages.filter((m) => m.direction === "received").map((m) => m.method);
    expect(inDialog).toEqual(["INVITE", "ACK", "BYE"]);
    await proxy.settled();
  });

  it("fails over past a gateway whose certificate does not name its FQDN, sending it nothing", async () => {
    const impostor = await tlsGateway("impostor", wrongCert);
    const good = await tlsGateway("sbc1", gatewayCert);
    const router = new TestRouter(() =>
      forward(
        serialSteps([
          tlsGatewayTarget("sbc2.tls.test", impostor.tlsPort),
          tlsGatewayTarget("sbc1.tls.test", good.tlsPort),
        ]),
      ),
    );
    proxy = await startTestProxy({
      router,
      timers: fastTimers,
      tls: { ...dialgateCert, caFile: pki.caFile, verifyGateways: true },
    });
    // A UDP caller: dialgate switches to TLS toward the gateway and record-routes both sides.
    const uac = await SippProcess.start({ scenario: "uac-call.xml", remote: proxy });
    const [a, b] = await Promise.all([uac.wait(), good.uas.wait()]);
    expect(a.exitCode, a.errors).toBe(0);
    expect(b.exitCode, b.errors).toBe(0);
    const invite = b.messages.find((m) => m.direction === "received" && m.method === "INVITE")!;
    expect(recordRoutes(invite)).toEqual([
      `<sip:127.0.0.1:${proxy.tlsPort};transport=tls;lr>`,
      `<sip:127.0.0.1:${proxy.port};lr>`,
    ]);
    const failed = proxy.events.filter((e) => e.type === "attempt-failed");
    expect(failed).toHaveLength(1);
    // The impostor's SIPp never saw a byte of SIP: the handshake failed before anything was sent.
    const impostorSaw = (await impostor.uas.kill()).messages.filter((m) => m.direction === "received");
    expect(impostorSaw).toHaveLength(0);
    expect(impostor.tunnel.log()).toMatch(/SSL_accept|alert|certificate/i);
  });

  it("with requireClientCertificate refuses a client without a certificate and knows one with", async () => {
    const router = new TestRouter();
    proxy = await startTestProxy({
      router,
      timers: fastTimers,
      tls: { ...dialgateCert, caFile: pki.caFile, requireClientCertificate: true },
    });
    const options = (id: string) =>
      [
        `OPTIONS sip:127.0.0.1:${proxy!.tlsPort} SIP/2.0`,
        `Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK${id};rport`,
        "Max-Forwards: 70",
        `From: <sip:probe@sbc1.tls.test>;tag=${id}`,
        `To: <sip:127.0.0.1:${proxy!.tlsPort}>`,
        `Call-ID: ${id}@test`,
        "CSeq: 1 OPTIONS",
        "Contact: <sip:sbc1.tls.test:5061;transport=tls>",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n");

    // Without a certificate: the server ends the handshake; no SIP answer ever comes.
    const anonymous = await openTls(proxy.tlsPort, {});
    anonymous.socket.write(options("anon1"));
    await waitFor(() => anonymous.closed, 10_000, "dialgate to close the connection without a certificate");
    expect(anonymous.received).toBe("");
    expect(router.requests).toHaveLength(0);

    // With one from the trusted CA: answered, and the router sees the certificate's names.
    const known = await openTls(proxy.tlsPort, {
      cert: readFileSync(gatewayCert.certFile),
      key: readFileSync(gatewayCert.keyFile),
    });
    known.socket.write(options("cert1"));
    await waitFor(() => known.received.includes("SIP/2.0 200"), 10_000, "a 200 to the OPTIONS");
    expect(router.requests[0]?.source.certificateNames).toEqual(["sbc1.tls.test"]);
    known.socket.destroy();
  });
});

function recordRoutes(m: { header(name: string): string[] }): string[] {
  return m
    .header("record-route")
    .flatMap((v) => v.split(","))
    .map((v) => v.trim());
}

describe("TLS connection reuse (RFC 5923)", () => {
  it("sends requests for a mutually authenticated peer's aliased sent-by on its own connection", async () => {
    const aliasPort = await freeTcpPort(); // nothing listens there: only the alias can deliver
    const router = new TestRouter((req) =>
      req.method === "INVITE"
        ? forward(serialSteps([tlsGatewayTarget("sbc1.tls.test", aliasPort)]))
        : { kind: "respond", status: 200, reason: "OK" },
    );
    proxy = await startTestProxy({
      router,
      timers: fastTimers,
      tls: { ...dialgateCert, caFile: pki.caFile, requireClientCertificate: true },
    });
    const gateway = await openTls(proxy.tlsPort, {
      cert: readFileSync(gatewayCert.certFile),
      key: readFileSync(gatewayCert.keyFile),
    });
    gateway.socket.write(
      optionsOverTls("alias1", proxy.tlsPort).replace(
        "Via: SIP/2.0/TLS 127.0.0.1:5061;",
        `Via: SIP/2.0/TLS sbc1.tls.test:${aliasPort};alias;`,
      ),
    );
    await waitFor(() => gateway.received.includes("SIP/2.0 200"), 10_000, "the OPTIONS answered");

    const caller = await RawSipClient.open("udp", proxy);
    caller.send(rawRequest("INVITE", `sip:+14255550100@127.0.0.1:${proxy.port}`, "udp"));
    await waitFor(
      () => gateway.received.includes("INVITE sip:+14255550100@sbc1.tls.test"),
      10_000,
      "the INVITE on the aliased connection",
    );
    caller.close();
    gateway.socket.destroy();
  });
});

describe("TLS credentials reload", () => {
  it("serves a new certificate to new connections after a reload; connections up stay up", async () => {
    // Our own copies of the files, so that the reload can change what they hold.
    const certFile = join(pki.dir, "live.pem");
    const keyFile = join(pki.dir, "live.key");
    copyFileSync(dialgateCert.certFile, certFile);
    copyFileSync(dialgateCert.keyFile, keyFile);
    const tls = { certFile, keyFile, caFile: pki.caFile };
    const router = new TestRouter();
    proxy = await startTestProxy({ router, timers: fastTimers, tls });
    const before = await openTls(proxy.tlsPort, {});
    const serialBefore = before.socket.getPeerCertificate().serialNumber;

    const renewed = pki.issue("renewed", ["dialgate.test"], { loopbackIp: true });
    copyFileSync(renewed.certFile, certFile);
    copyFileSync(renewed.keyFile, keyFile);
    const config = (overrides: Record<string, unknown>) =>
      dialgateConfigSchema.parse({
        sip: {
          listen: [{ transport: "tls", host: "127.0.0.1", port: proxy!.tlsPort }],
          recordRouteHost: "127.0.0.1",
          tls: { ...tls, ...overrides },
        },
      });
    expect(await proxy.dialgate.reload(config({}))).toMatchObject({ ok: true });

    const after = await openTls(proxy.tlsPort, {});
    expect(after.socket.getPeerCertificate().serialNumber).not.toBe(serialBefore);
    // The connection made before the reload still carries SIP.
    before.socket.write(optionsOverTls("held1", proxy.tlsPort));
    await waitFor(() => before.received.includes("SIP/2.0 200"), 10_000, "a 200 on the old connection");

    // A key file that is not PEM: refused at the key's own path (as `config check` says it), the
    // certificate in use stays.
    writeFileSync(join(pki.dir, "broken.key"), "not a key");
    const refused = await proxy.dialgate.reload(config({ keyFile: join(pki.dir, "broken.key") }));
    expect(refused).toMatchObject({ ok: false, problems: [{ path: "sip.tls.keyFile" }] });
    const still = await openTls(proxy.tlsPort, {});
    expect(still.socket.getPeerCertificate().serialNumber).toBe(
      after.socket.getPeerCertificate().serialNumber,
    );
    for (const c of [before, after, still]) c.socket.destroy();
  });
});

async function openTls(
  port: number,
  creds: { cert?: Buffer; key?: Buffer },
): Promise<{ socket: TLSSocket; received: string; closed: boolean }> {
  const state = { socket: null as unknown as TLSSocket, received: "", closed: false };
  const socket = tlsConnect({
    host: "127.0.0.1",
    port,
    ca: readFileSync(pki.caFile),
    servername: "dialgate.test",
    ...creds,
  });
  state.socket = socket;
  socket.on("data", (d: Buffer) => {
    state.received += d.toString("latin1");
  });
  socket.on("error", () => {});
  socket.on("close", () => {
    state.closed = true;
  });
  await waitFor(() => socket.encrypted && (state.closed || socket.authorized !== undefined), 10_000, "TLS");
  await new Promise<void>((resolve) => {
    if (state.closed) resolve();
    else {
      socket.once("secureConnect", () => resolve());
      socket.once("close", () => resolve());
    }
  });
  return state;
}
