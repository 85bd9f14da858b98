// `dialgate serve` as operators run it, and the graceful shutdown of the edge.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../support/free-port.js";
import { RawSipClient, rawRequest } from "../support/raw-sip-client.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { type BinaryProxy, startBinaryProxy, startTestProxy, type TestProxy } from "../support/test-proxy.js";
import { forward, loopbackTarget, serialSteps, TestRouter } from "../support/test-router.js";

let binary: BinaryProxy | null = null;
let proxy: TestProxy | null = null;
const clients: RawSipClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killAllSipp();
  await binary?.terminate();
  binary = null;
  await proxy?.stop();
  proxy = null;
});
afterAll(killAllSipp);

const config = `sip:
  listen:
    - { transport: udp, host: 127.0.0.1, port: @PORT@ }
    - { transport: tcp, host: 127.0.0.1, port: @PORT@ }
  recordRouteHost: 127.0.0.1
  drainTimeoutSeconds: 5
http: { port: 0 }
# OPTIONS are answered for known gateways (routing.md); this one sends from loopback.
gateways:
  - { fqdn: monitor.example.com, address: 127.0.0.1, enabled: true, sendSipOptions: false }
`;

describe("dialgate serve", () => {
  it("listens on the configured addresses, answers OPTIONS, and exits 0 on SIGTERM", async () => {
    binary = await startBinaryProxy(config);
    expect(binary.output()).toContain(`udp:127.0.0.1:${binary.port}`);
    for (const transport of ["udp", "tcp"] as const) {
      const c = await RawSipClient.open(transport, { host: "127.0.0.1", port: binary.port });
      clients.push(c);
      c.send(rawRequest("OPTIONS", `sip:127.0.0.1:${binary.port}`, transport));
      expect((await c.response()).status).toBe(200);
    }
    const code = await binary.terminate();
    binary = null;
    expect(code).toBe(0);
  });
});

describe("graceful shutdown", () => {
  it("refuses new INVITEs with 503 + Retry-After while a call in progress finishes", async () => {
    const uas = await SippProcess.start({ scenario: "uas-answer.xml" });
    const router = new TestRouter(() => forward(serialSteps([loopbackTarget(uas.port)])));
    proxy = await startTestProxy({ router, timers: { t1Ms: 50, t4Ms: 500 } });
    const uac = await SippProcess.start({ scenario: "uac-call.xml", remote: proxy, pauseMs: 1500 });
    // Wait until the call is established (the gateway has the ACK), then start draining.
    await waitFor(() => uas.messagesSoFar().some((m) => m.direction === "received" && m.method === "ACK"));
    const drained = proxy.dialgate.shutdown(20_000);

    const c = await RawSipClient.open("udp", proxy);
    clients.push(c);
    c.send(rawRequest("INVITE", `sip:+14255550100@127.0.0.1:${proxy.port}`, "udp"));
    const refused = await c.response();
    expect(refused.status).toBe(503);
    expect(refused.header("Retry-After")).toBeDefined();

    const caller = await uac.wait();
    expect(caller.exitCode, caller.errors).toBe(0);
    expect(await drained).toBe(true);
    proxy = null;
  });
});
