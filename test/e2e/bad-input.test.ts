// What the native edge answers to requests it must not forward (RFC 3261 §8.2, §16.3, §21).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RawSipClient, rawRequest } from "../support/raw-sip-client.js";
import { startTestProxy, type TestProxy } from "../support/test-proxy.js";
import { forward, serialSteps, TestRouter } from "../support/test-router.js";

let proxy: TestProxy;
let router: TestRouter;
const clients: RawSipClient[] = [];

beforeAll(async () => {
  router = new TestRouter();
  proxy = await startTestProxy({ router, timers: { t1Ms: 50, t4Ms: 500 }, maxMessageBytes: 2000 });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await proxy.stop();
});

async function client(transport: "udp" | "tcp" = "udp"): Promise<RawSipClient> {
  const c = await RawSipClient.open(transport, proxy);
  clients.push(c);
  return c;
}

const self = () => `sip:127.0.0.1:${proxy.port}`;

describe.each(["udp", "tcp"] as const)("bad input and requests to the proxy itself over %s", (transport) => {
  it("answers OPTIONS addressed to the proxy with 200 and its capabilities", async () => {
    const c = await client(transport);
    c.send(rawRequest("OPTIONS", self(), transport));
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(r.header("Allow")).toContain("INVITE");
    expect(r.header("Accept")).toBe("application/sdp");
    expect(r.header("Supported")).toBeDefined();
    expect(r.header("Via")).toMatch(/;received=127\.0\.0\.1/);
    expect(r.header("Via")).toMatch(new RegExp(`;rport=${c.port}`));
  });

  it("answers 501 to an unknown method out of dialog", async () => {
    const c = await client(transport);
    c.send(rawRequest("FROBNICATE", self(), transport));
    const r = await c.response();
    expect(r.status).toBe(501);
    expect(r.header("Allow")).toContain("OPTIONS");
  });

  it("answers 400 with the parser's reason to a request without Call-ID", async () => {
    const c = await client(transport);
    const text = rawRequest("OPTIONS", self(), transport).replace(/Call-ID:[^\r]*\r\n/, "");
    c.send(text);
    const r = await c.response();
    expect(r.status).toBe(400);
    expect(r.reason).toMatch(/call-id/i);
  });

  it("answers 413 to an oversized request", async () => {
    const c = await client(transport);
    c.send(rawRequest("OPTIONS", self(), transport, { body: "x".repeat(3000) }));
    const r = await c.response();
    expect(r.status).toBe(413);
  });

  it("answers 481 to a BYE outside any dialog and 404 to an in-dialog request it did not record-route", async () => {
    const c = await client(transport);
    c.send(rawRequest("BYE", self(), transport));
    expect((await c.response()).status).toBe(481);
    const d = await client(transport);
    d.send(rawRequest("BYE", "sip:someone@127.0.0.1:9", transport, { toTag: "abc" }));
    expect((await d.response()).status).toBe(404);
  });

  it("answers 481 to a CANCEL that matches no transaction", async () => {
    const c = await client(transport);
    c.send(rawRequest("CANCEL", self(), transport));
    expect((await c.response()).status).toBe(481);
  });

  it("answers 420 to a Proxy-Require it does not support", async () => {
    const c = await client(transport);
    c.send(rawRequest("OPTIONS", self(), transport, { extra: ["Proxy-Require: foo"] }));
    const r = await c.response();
    expect(r.status).toBe(420);
    expect(r.header("Unsupported")).toBe("foo");
  });
});

describe("loops", () => {
  it("answers 482 when a request comes back to the proxy unchanged", async () => {
    // The router sends the call to the proxy itself with the same Request-URI: a loop.
    const uri = `sip:+14255550100@127.0.0.1:${proxy.port}`;
    router.script(() =>
      forward(
        serialSteps([
          {
            requestUri: uri,
            destination: { host: "127.0.0.1", port: proxy.port, transport: "udp" },
            label: "self",
            gateway: null,
          },
        ]),
      ),
    );
    const c = await client("udp");
    c.send(rawRequest("INVITE", uri, "udp"));
    const r = await c.response();
    expect(r.status).toBe(482);
    // The looped pass ended with 482 too, and no transaction or timer outlives it all.
    await proxy.settled();
  });
});
