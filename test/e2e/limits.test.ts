// Safe limits (issue #15): the default maximum message size refuses a 60 KB message with 413 on
// UDP and closes a TCP stream that sends a 60 KB header; too many header fields get 400; a source
// may hold only maxConnectionsPerSource TCP connections; idle connections are closed.
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { dialgateConfigSchema } from "../../src/config/schema.js";
import { waitFor } from "../support/free-port.js";
import { RawSipClient, rawRequest } from "../support/raw-sip-client.js";
import { startTestProxy, type TestProxy } from "../support/test-proxy.js";
import { TestRouter } from "../support/test-router.js";

let proxy: TestProxy | null = null;
const open: (RawSipClient | Socket)[] = [];

afterEach(async () => {
  for (const c of open.splice(0)) c instanceof RawSipClient ? c.close() : c.destroy();
  await proxy?.stop();
  proxy = null;
});

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
