import { afterAll, afterEach, describe, expect, it } from "vitest";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { startTestProxy, type TestProxy } from "../support/test-proxy.js";
import { forward, loopbackTarget, serialSteps, TestRouter } from "../support/test-router.js";

let proxy: TestProxy | null = null;

afterEach(async () => {
  await killAllSipp();
  await proxy?.stop();
  proxy = null;
});
afterAll(killAllSipp);

describe.each(["udp", "tcp"] as const)("a basic call over %s", (transport) => {
  it("is forwarded with Record-Route, ACKed and ended by the caller's BYE through the proxy", async () => {
    const uas = await SippProcess.start({ scenario: "uas-answer.xml", transport });
    const router = new TestRouter(() => forward(serialSteps([loopbackTarget(uas.port, { transport })])));
    proxy = await startTestProxy({ router, timers: { t1Ms: 50, t4Ms: 500 } });
    const uac = await SippProcess.start({
      scenario: "uac-call.xml",
      transport,
      remote: { host: proxy.host, port: proxy.port },
      service: "4255550100",
    });
    const [caller, gateway] = await Promise.all([uac.wait(), uas.wait()]);

    expect(caller.exitCode, caller.errors + caller.stderr).toBe(0);
    expect(gateway.exitCode, gateway.errors + gateway.stderr).toBe(0);
    expect(caller.stats?.successfulCalls).toBe(1);

    // The router saw the caller's request ...
    expect(router.requests.map((r) => [r.method, r.requestUri.user])).toEqual([["INVITE", "4255550100"]]);
    // ... and the gateway got the Request-URI the router chose, one Via more, and our Record-Route.
    const invite = gateway.messages.find((m) => m.direction === "received" && m.method === "INVITE")!;
    expect(invite.requestUri).toBe(loopbackTarget(uas.port, { transport }).requestUri);
    expect(invite.header("Max-Forwards")).toEqual(["69"]);
    const rr = invite.header("Record-Route").join(",");
    expect(rr).toContain(`sip:127.0.0.1:${proxy.port}`);
    expect(rr).toContain(";lr");
    expect(invite.header("Via").join(",")).toMatch(/^SIP\/2\.0\/(UDP|TCP) 127\.0\.0\.1:\d+;branch=z9hG4bK/);
    // ACK and BYE reached the gateway through the proxy (loose routing, not end to end).
    const received = gateway.messages.filter((m) => m.direction === "received").map((m) => m.method);
    expect(received).toEqual(["INVITE", "ACK", "BYE"]);
    const bye = gateway.messages.find((m) => m.direction === "received" && m.method === "BYE")!;
    expect(bye.header("Via").length).toBe(2);
    // What the caller saw.
    const statuses = caller.messages.filter((m) => m.direction === "received").map((m) => m.status);
    expect(statuses).toContain(100);
    expect(statuses).toContain(180);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);

    expect(proxy.events.map((e) => e.type)).toEqual([
      "received",
      "attempt-sent",
      "provisional",
      "answered",
      "ended",
    ]);
    expect(proxy.events.at(-1)).toMatchObject({ type: "ended", by: "caller" });
    await proxy.settled();
    expect(proxy.dialgate.stats.dialogs).toBe(0);
  });
});
