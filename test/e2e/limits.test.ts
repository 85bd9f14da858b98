// Safe limits (issue #15): the default maximum message size refuses a 60 KB message with 413 on
// UDP and closes a TCP stream that sends a 60 KB header, or a header and a body that only
// together exceed it; too many header fields get 400; a source may hold only
// maxConnectionsPerSource TCP or TLS connections (TLS ones count from accept, before their
// handshake) and a banned source gets no TLS handshake; idle connections are closed.
import { createSocket } from "node:dgram";
import { connect, type Socket } from "node:net";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { dialgateConfigSchema } from "../../src/config/schema.js";
import { waitFor } from "../support/free-port.js";
import { RawSipClient, rawRequest } from "../support/raw-sip-client.js";
import { createTestPki, type IssuedCertificate, type TestPki } from "../support/test-pki.js";
import { startTestProxy, type TestProxy } from "../support/test-proxy.js";
import { TestRouter } from "../support/test-router.js";
import { openTlsClient } from "../support/tls-peer.js";

let proxy: TestProxy | null = null;
const open: (RawSipClient | Socket | { destroy(): void })[] = [];
let pki: TestPki;
let dialgateCert: IssuedCertificate;

beforeAll(() => {
  pki = createTestPki();
  dialgateCert = pki.issue("dialgate", ["dialgate.test"], { loopbackIp: true });
});

afterEach(async () => {
  for (const c of open.splice(0)) c instanceof RawSipClient ? c.close() : c.destroy();
  await proxy?.stop();
  proxy = null;
});

/** Raw TCP connections (no TLS handshake) to `port`, each noting when the server closed it. */
async function rawConnections(port: number, count: number): Promise<{ socket: Socket; closed: boolean }[]> {
  const out: { socket: Socket; closed: boolean }[] = [];
  for (let i = 0; i < count; i++) {
    const socket = connect({ host: "127.0.0.1", port });
    const entry = { socket, closed: false };
    socket.on("error", () => {});
    socket.on("close", () => (entry.closed = true));
    open.push(socket);
    out.push(entry);
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  }
  return out;
}

const sixtyKb = `X-Padding: ${"a".repeat(60 * 1024)}`;

describe("safe limits", () => {
  it("defaults to 32 KiB messages, 256 header fields, 100 connections per source, 300 s idle", () => {
    const sip = dialgateConfigSchema.parse({
      sip: { listen: [{ transport: "udp", host: "127.0.0.1", port: 5060 }], recordRouteHost: "127.0.0.1" },
    }).sip;
    expect(sip.maxMessageBytes).toBe(32_768);
    expect(sip.limits).toEqual({ maxHeaders: 256, maxConnectionsPerSource: 100, idleConnectionSeconds: 300 });
  });

  it("answers a 60 KB UDP request with 413 (default limit)", async () => {
    proxy = await startTestProxy({ router: new TestRouter() });
    const c = await RawSipClient.open("udp", proxy);
    open.push(c);
    c.send(rawRequest("OPTIONS", `sip:127.0.0.1:${proxy.port}`, "udp", { extra: [sixtyKb] }));
    const r = await c.response();
    expect(r.status).toBe(413);
    // 413's phrase (RFC 3261 §21.4.11); "Message Too Large" belongs to 513.
    expect(r.reason).toBe("Request Entity Too Large");
  });

  it("answers a 60 KB header over TCP with 413 and closes the stream", async () => {
    proxy = await startTestProxy({ router: new TestRouter() });
    const c = await RawSipClient.open("tcp", proxy);
    open.push(c);
    c.send(rawRequest("OPTIONS", `sip:127.0.0.1:${proxy.port}`, "tcp", { extra: [sixtyKb] }));
    const r = await c.response();
    expect(r.status).toBe(413);
    await waitFor(() => c.connectionClosed, 10_000, "dialgate to close the stream");
    await waitFor(() => proxy!.dialgate.stats.tcpConnections === 0, 10_000, "the connection gone");
  });

  it("closes a TCP stream whose header and body are each under the limit but not together", async () => {
    proxy = await startTestProxy({ router: new TestRouter() });
    const c = await RawSipClient.open("tcp", proxy);
    open.push(c);
    const thirtyKb = `X-Padding: ${"a".repeat(30 * 1024)}`;
    c.send(
      rawRequest("OPTIONS", `sip:127.0.0.1:${proxy.port}`, "tcp", {
        extra: [thirtyKb],
        body: "b".repeat(30 * 1024),
      }),
    );
    const r = await c.response();
    expect(r.status).toBe(413);
    expect(r.reason).toBe("Request Entity Too Large");
    await waitFor(() => c.connectionClosed, 10_000, "dialgate to close the stream");
  });

  it("refuses more header fields than sip.limits.maxHeaders with 400", async () => {
    proxy = await startTestProxy({ router: new TestRouter(), sip: { limits: { maxHeaders: 32 } } });
    const c = await RawSipClient.open("udp", proxy);
    open.push(c);
    const many = Array.from({ length: 40 }, (_, i) => `X-H${i}: ${i}`);
    c.send(rawRequest("OPTIONS", `sip:127.0.0.1:${proxy.port}`, "udp", { extra: many }));
    const r = await c.response();
    expect(r.status).toBe(400);
    expect(r.reason).toMatch(/too many header/i);
    // Under the limit the same request is answered.
    c.send(rawRequest("OPTIONS", `sip:127.0.0.1:${proxy.port}`, "udp", { extra: many.slice(0, 10) }));
    await c.response((x) => x.status === 200);
  });

  it("closes connections beyond maxConnectionsPerSource from one address", async () => {
    proxy = await startTestProxy({
      router: new TestRouter(),
      sip: { flood: { allow: [] }, limits: { maxConnectionsPerSource: 3 } },
    });
    const sockets: { socket: Socket; closed: boolean }[] = [];
    for (let i = 0; i < 4; i++) {
      const socket = connect({ host: "127.0.0.1", port: proxy.port });
      const entry = { socket, closed: false };
      socket.on("error", () => {});
      socket.on("close", () => (entry.closed = true));
      open.push(socket);
      sockets.push(entry);
      await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
      await waitFor(
        () => proxy!.dialgate.stats.tcpConnections === Math.min(i + 1, 3) || entry.closed,
        10_000,
        "accept",
      );
    }
    await waitFor(() => sockets[3]!.closed, 10_000, "the fourth connection closed");
    expect(sockets.slice(0, 3).map((s) => s.closed)).toEqual([false, false, false]);
    expect(proxy.dialgate.stats.tcpConnections).toBe(3);
    expect(proxy.dialgate.edge.protectionStats.refusedConnections).toBe(1);
  });

  it("counts TLS connections still handshaking against maxConnectionsPerSource", async () => {
    proxy = await startTestProxy({
      router: new TestRouter(),
      tls: { ...dialgateCert, caFile: pki.caFile },
      sip: { flood: { allow: [] }, limits: { maxConnectionsPerSource: 3 } },
    });
    // Four TCP connections to the TLS port that never start a handshake.
    const sockets = await rawConnections(proxy.tlsPort, 4);
    await waitFor(() => sockets[3]!.closed, 10_000, "the fourth connection closed");
    expect(sockets.slice(0, 3).map((s) => s.closed)).toEqual([false, false, false]);
    expect(proxy.dialgate.edge.protectionStats.refusedConnections).toBe(1);
    // Once one goes, another may come.
    sockets[0]!.socket.destroy();
    await waitFor(() => sockets[0]!.closed, 10_000, "the first connection gone");
    const [fifth] = await rawConnections(proxy.tlsPort, 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(fifth!.closed).toBe(false);
  });

  it("refuses a banned source's TLS connections before any handshake", async () => {
    proxy = await startTestProxy({
      router: new TestRouter(),
      tls: { ...dialgateCert, caFile: pki.caFile },
      sip: { flood: { allow: [] } },
    });
    // A scanner's request bans its source (127.0.0.2) at once.
    const scanner = createSocket("udp4");
    open.push({ destroy: () => scanner.close() });
    await new Promise<void>((resolve) => scanner.bind(0, "127.0.0.2", () => resolve()));
    const probe = rawRequest("OPTIONS", `sip:127.0.0.1:${proxy.port}`, "udp", {
      extra: ["User-Agent: friendly-scanner"],
    }).replace("127.0.0.1:@PORT@", `127.0.0.2:${scanner.address().port}`);
    scanner.send(probe, proxy.port, "127.0.0.1");
    await waitFor(() => proxy!.dialgate.edge.protectionStats.bans === 1, 10_000, "the scanner banned");

    const banned = await openTlsClient({
      port: proxy.tlsPort,
      caFile: pki.caFile,
      localAddress: "127.0.0.2",
    });
    open.push(banned.socket);
    expect(banned.secure).toBe(false);
    expect(banned.closed).toBe(true);
    expect(proxy.dialgate.edge.protectionStats.refusedConnections).toBe(1);
    // Another source still gets its handshake.
    const fine = await openTlsClient({ port: proxy.tlsPort, caFile: pki.caFile });
    open.push(fine.socket);
    expect(fine.secure).toBe(true);
  });

  it("closes a connection idle for idleConnectionSeconds", async () => {
    proxy = await startTestProxy({ router: new TestRouter(), sip: { limits: { idleConnectionSeconds: 1 } } });
    const socket = connect({ host: "127.0.0.1", port: proxy.port });
    open.push(socket);
    let closed = false;
    socket.on("close", () => (closed = true));
    socket.on("error", () => {});
    await waitFor(() => proxy!.dialgate.stats.tcpConnections === 1, 10_000, "the connection accepted");
    await waitFor(() => closed, 20_000, "the idle connection closed by dialgate");
    expect(proxy.dialgate.stats.tcpConnections).toBe(0);
  });
});
