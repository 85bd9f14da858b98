// SIP over TLS, who is trusted (issue #15 audit): mutual TLS that follows a reload of
// requireClientCertificate, the system CA bundle as the default trust store, and a warning (rate
// limited) when a gateway's certificate is refused. Gateways and clients are Node TLS sockets
// (test/support/tls-peer.ts); certificates come from a throwaway CA made at setup.
import { pino } from "pino";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { dialgateConfigSchema } from "../../src/config/schema.js";
import { waitFor } from "../support/free-port.js";
import { RawSipClient, rawRequest } from "../support/raw-sip-client.js";
import { type IssuedCertificate, issueTlsTestCertificates, type TestPki } from "../support/test-pki.js";
import { startTestProxy, type TestProxy } from "../support/test-proxy.js";
import { forward, serialSteps, TestRouter } from "../support/test-router.js";
import {
  answerInvites,
  closeAllTlsPeers,
  finalStatus,
  openTlsClient,
  optionsOverTls,
  type TlsClient,
  TlsSipGateway,
  tlsGatewayTarget,
} from "../support/tls-peer.js";

let pki: TestPki;
let dialgateCert: IssuedCertificate;
let gatewayCert: IssuedCertificate;
let wrongCert: IssuedCertificate;
let proxy: TestProxy | null = null;
const cleanups: (() => unknown)[] = [];

beforeAll(() => {
  ({ pki, dialgate: dialgateCert, gateway: gatewayCert, wrong: wrongCert } = issueTlsTestCertificates());
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await closeAllTlsPeers();
  await proxy?.stop();
  proxy = null;
});

const fastTimers = { t1Ms: 100, t4Ms: 500 };

/** A TLS connection to the proxy that trusts the test CA. */
function tlsClient(options: { cert?: IssuedCertificate } = {}) {
  return openTlsClient({ port: proxy!.tlsPort, caFile: pki.caFile, ...options });
}

describe("mutual TLS after a reload", () => {
  it("applies a reloaded requireClientCertificate to new connections, both ways", async () => {
    const tls = { ...dialgateCert, caFile: pki.caFile, requireClientCertificate: false };
    proxy = await startTestProxy({ router: new TestRouter(), timers: fastTimers, tls });
    const p = proxy;
    const reload = (requireClientCertificate: boolean) =>
      p.dialgate.reload(
        dialgateConfigSchema.parse({
          sip: {
            listen: [
              { transport: "udp", host: "127.0.0.1", port: p.port },
              { transport: "tcp", host: "127.0.0.1", port: p.port },
              { transport: "tls", host: "127.0.0.1", port: p.tlsPort },
            ],
            recordRouteHost: "127.0.0.1",
            tls: { ...tls, requireClientCertificate },
          },
        }),
      );
    const answered = async (c: TlsClient, id: string) => {
      c.socket.write(optionsOverTls(id, p.tlsPort));
      await waitFor(
        () => finalStatus(c.messages) !== undefined || c.closed,
        10_000,
        "an answer or the close",
      );
      return finalStatus(c.messages) === 200;
    };

    const before = await tlsClient({});
    expect(await answered(before, "anon1")).toBe(true);

    expect(await reload(true)).toMatchObject({ ok: true });
    const anonymous = await tlsClient({});
    expect(await answered(anonymous, "anon2")).toBe(false);
    expect(anonymous.received).toBe("");
    const known = await tlsClient({ cert: gatewayCert });
    expect(await answered(known, "cert1")).toBe(true);
    // A connection that was up before the reload stays up (calls on it are untouched).
    before.socket.write(optionsOverTls("anon3", p.tlsPort));
    await waitFor(() => before.messages.length === 2, 10_000, "a second answer on the old connection");

    expect(await reload(false)).toMatchObject({ ok: true });
    const again = await tlsClient({});
    expect(await answered(again, "anon4")).toBe(true);
  });
});

describe("trust anchors and certificate failures", () => {
  it("trusts the system CA bundle (SSL_CERT_FILE) when sip.tls has no caFile", async () => {
    const gw = await TlsSipGateway.start(gatewayCert, answerInvites("486 Busy Here"));
    const saved = process.env.SSL_CERT_FILE;
    process.env.SSL_CERT_FILE = pki.caFile;
    cleanups.push(() => {
      if (saved === undefined) delete process.env.SSL_CERT_FILE;
      else process.env.SSL_CERT_FILE = saved;
    });
    proxy = await startTestProxy({
      router: new TestRouter(() => forward(serialSteps([tlsGatewayTarget("sbc1.tls.test", gw.port)]))),
      timers: fastTimers,
      tls: { ...dialgateCert, verifyGateways: true },
    });
    const c = await RawSipClient.open("udp", proxy);
    cleanups.push(() => c.close());
    c.send(rawRequest("INVITE", `sip:+14255550100@127.0.0.1:${proxy.port}`, "udp"));
    expect((await c.response()).status).toBe(486);
    expect(gw.requests("INVITE")).toHaveLength(1);
  });

  it("logs a refused gateway certificate as a warning with gateway, address and error, once a minute", async () => {
    const impostor = await TlsSipGateway.start(wrongCert, answerInvites("486 Busy Here"));
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "debug" }, { write: (s: string) => lines.push(JSON.parse(s)) });
    proxy = await startTestProxy({
      router: new TestRouter(() => forward(serialSteps([tlsGatewayTarget("sbc2.tls.test", impostor.port)]))),
      timers: fastTimers,
      tls: { ...dialgateCert, caFile: pki.caFile, verifyGateways: true },
      logger,
    });
    const c = await RawSipClient.open("udp", proxy);
    cleanups.push(() => c.close());
    for (const id of ["w1", "w2"]) {
      c.send(rawRequest("INVITE", `sip:+14255550100@127.0.0.1:${proxy.port}`, "udp", { callId: `${id}@t` }));
      await c.response((r) => r.status >= 200 && r.header("call-id") === `${id}@t`);
    }
    expect(c.received.filter((r) => r.status >= 200).map((r) => r.status)).toEqual([503, 503]);
    expect(impostor.requests("INVITE")).toHaveLength(0);
    const warnings = lines.filter(
      (l) => l.level === 40 && /TLS connection to gateway failed/.test(String(l.msg)),
    );
    // Two failed calls, one warning: the second within the minute is counted, not logged.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      gateway: "sbc2.tls.test",
      address: `127.0.0.1:${impostor.port}`,
      verifyError: "ERR_TLS_CERT_ALTNAME_INVALID",
    });
  });
});
