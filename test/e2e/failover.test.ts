// routing.md "Failover, per attempt", end to end: real SIPp gateways behind the native edge.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freeUdpPort } from "../support/free-port.js";
import type { SippResult } from "../support/sipp.js";
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

const fastTimers = { t1Ms: 50, t4Ms: 500 };

function finalsReceived(r: SippResult): number[] {
  return r.messages
    .filter(
      (m) => m.direction === "received" && m.status !== null && m.status >= 200 && m.method === "INVITE",
    )
    .map((m) => m.status!);
}

function invitesReceived(r: SippResult): number {
  return r.messages.filter((m) => m.direction === "received" && m.method === "INVITE").length;
}

describe("failover between gateways", () => {
  it("goes on to the second gateway after a 503 and the call is answered there", async () => {
    const busyGw = await SippProcess.start({ scenario: "uas-reject.xml", sets: { status: "503" } });
    const goodGw = await SippProcess.start({ scenario: "uas-answer.xml" });
    const router = new TestRouter(() =>
      forward(
        serialSteps([loopbackTarget(busyGw.port), loopbackTarget(goodGw.port, { user: "4255550100" })]),
      ),
    );
    proxy = await startTestProxy({ router, timers: fastTimers });
    const uac = await SippProcess.start({ scenario: "uac-call.xml", remote: proxy });
    const [caller, first, second] = await Promise.all([uac.wait(), busyGw.wait(), goodGw.wait()]);

    expect(caller.exitCode, caller.errors).toBe(0);
    expect(first.exitCode, first.errors).toBe(0);
    expect(second.exitCode, second.errors).toBe(0);
    // The caller never saw the 503; the second gateway got its own Request-URI.
    expect(caller.messages.some((m) => m.status === 503 || m.status === 500)).toBe(false);
    const invite = second.messages.find((m) => m.direction === "received" && m.method === "INVITE")!;
    expect(invite.requestUri).toBe(`sip:4255550100@127.0.0.1:${goodGw.port};user=phone`);
    // The 503 was ACKed hop by hop by the proxy.
    expect(first.messages.filter((m) => m.direction === "received").map((m) => m.method)).toEqual([
      "INVITE",
      "ACK",
    ]);
    const types = proxy.events.map((e) => e.type);
    expect(types).toEqual([
      "received",
      "attempt-sent",
      "attempt-failed",
      "attempt-sent",
      "provisional",
      "answered",
      "ended",
    ]);
    expect(proxy.events[2]).toMatchObject({
      type: "attempt-failed",
      status: 503,
      cause: "response",
      step: 0,
    });
    await proxy.settled();
  });

  it("does not fail over on 486: the caller gets 486 and the second gateway is never tried", async () => {
    const busy = await SippProcess.start({ scenario: "uas-reject.xml", sets: { status: "486" } });
    const spare = await SippProcess.start({ scenario: "uas-answer.xml" });
    const router = new TestRouter(() =>
      forward(serialSteps([loopbackTarget(busy.port), loopbackTarget(spare.port)])),
    );
    proxy = await startTestProxy({ router, timers: fastTimers });
    const uac = await SippProcess.start({
      scenario: "uac-reject.xml",
      remote: proxy,
      keys: { maxfwd: "70" },
    });
    const [caller, gw] = await Promise.all([uac.wait(), busy.wait()]);

    expect(caller.exitCode, caller.errors).toBe(0);
    expect(gw.exitCode, gw.errors).toBe(0);
    expect(finalsReceived(caller)).toEqual([486]);
    expect(invitesReceived(await spare.kill())).toBe(0);
    expect(proxy.events.map((e) => e.type)).toEqual([
      "received",
      "attempt-sent",
      "attempt-failed",
      "rejected",
    ]);
    await proxy.settled();
  });

  it("turns a 503 from the last gateway into 500 (RFC 3261 §16.7)", async () => {
    const a = await SippProcess.start({ scenario: "uas-reject.xml", sets: { status: "503" } });
    const b = await SippProcess.start({ scenario: "uas-reject.xml", sets: { status: "503" } });
    const router = new TestRouter(() =>
      forward(serialSteps([loopbackTarget(a.port), loopbackTarget(b.port)])),
    );
    proxy = await startTestProxy({ router, timers: fastTimers });
    const uac = await SippProcess.start({
      scenario: "uac-reject.xml",
      remote: proxy,
      keys: { maxfwd: "70" },
    });
    const [caller, ga, gb] = await Promise.all([uac.wait(), a.wait(), b.wait()]);
    expect(caller.exitCode, caller.errors).toBe(0);
    expect([ga.exitCode, gb.exitCode]).toEqual([0, 0]);
    expect(finalsReceived(caller)).toEqual([500]);
    await proxy.settled();
  });

  it("CANCELs a silent gateway when the failover timer fires and the next one answers", async () => {
    const silent = await SippProcess.start({ scenario: "uas-no-answer.xml" });
    const good = await SippProcess.start({ scenario: "uas-answer.xml" });
    const router = new TestRouter(() =>
      forward(serialSteps([loopbackTarget(silent.port), loopbackTarget(good.port)], [408, 503, 504], 300)),
    );
    proxy = await startTestProxy({ router, timers: fastTimers });
    const uac = await SippProcess.start({ scenario: "uac-call.xml", remote: proxy });
    const [caller, s, g] = await Promise.all([uac.wait(), silent.wait(), good.wait()]);

    expect(caller.exitCode, caller.errors).toBe(0);
    expect(s.exitCode, s.errors).toBe(0);
    expect(g.exitCode, g.errors).toBe(0);
    // The silent gateway got INVITE, our CANCEL, and the ACK for its 487.
    expect(s.messages.filter((m) => m.direction === "received").map((m) => m.method)).toEqual([
      "INVITE",
      "CANCEL",
      "ACK",
    ]);
    expect(caller.messages.some((m) => m.status === 487)).toBe(false);
    expect(proxy.events.find((e) => e.type === "attempt-failed")).toMatchObject({
      cause: "failover-timer",
      step: 0,
    });
    await proxy.settled();
  });

  it("fails over when a UDP gateway never answers at all (Timer B, a local 408)", async () => {
    const good = await SippProcess.start({ scenario: "uas-answer.xml" });
    const nobody = loopbackTarget(await freeUdpPort());
    const router = new TestRouter(() => forward(serialSteps([nobody, loopbackTarget(good.port)])));
    proxy = await startTestProxy({ router, timers: fastTimers });
    const uac = await SippProcess.start({ scenario: "uac-call.xml", remote: proxy });
    const [caller, g] = await Promise.all([uac.wait(), good.wait()]);
    expect(caller.exitCode, caller.errors).toBe(0);
    expect(g.exitCode, g.errors).toBe(0);
    expect(proxy.events.find((e) => e.type === "attempt-failed")).toMatchObject({
      cause: "timeout",
      status: null,
    });
    expect(proxy.events).toContainEqual(expect.objectContaining({ type: "transaction-timeout", timer: "B" }));
    await proxy.settled();
  });

  it("fails over on a transport failure (TCP connection refused)", async () => {
    const good = await SippProcess.start({ scenario: "uas-answer.xml" });
    // A port nobody listens on: the TCP connect is refused.
    const closed = loopbackTarget(1, { transport: "tcp" });
    const router = new TestRouter(() => forward(serialSteps([closed, loopbackTarget(good.port)], [503])));
    proxy = await startTestProxy({ router, timers: fastTimers });
    const uac = await SippProcess.start({ scenario: "uac-call.xml", remote: proxy });
    const [caller, g] = await Promise.all([uac.wait(), good.wait()]);
    expect(caller.exitCode, caller.errors).toBe(0);
    expect(g.exitCode, g.errors).toBe(0);
    expect(proxy.events.find((e) => e.type === "attempt-failed")).toMatchObject({ cause: "transport" });
    await proxy.settled();
  });
});
