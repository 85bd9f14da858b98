// Parallel forking within a step (RFC 3261 §16.7) and the switch to TCP for large requests (§18.1.1).
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { RawSipClient, rawRequest } from "../support/raw-sip-client.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { startTestProxy, type TestProxy } from "../support/test-proxy.js";
import { forward, loopbackTarget, TestRouter } from "../support/test-router.js";

let proxy: TestProxy | null = null;
const clients: RawSipClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killAllSipp();
  await proxy?.stop();
  proxy = null;
});
afterAll(killAllSipp);

const fastTimers = { t1Ms: 50, t4Ms: 500 };

describe("parallel forking", () => {
  it("forwards the first 2xx and CANCELs the branch still ringing", async () => {
    const ringing = await SippProcess.start({ scenario: "uas-ring-no-answer.xml" });
    const answering = await SippProcess.start({ scenario: "uas-answer.xml" });
    const router = new TestRouter(() =>
      forward([
        {
          targets: [loopbackTarget(ringing.port), loopbackTarget(answering.port)],
          failoverResponseCodes: [503],
          failoverTimeoutMs: null,
        },
      ]),
    );
    proxy = await startTestProxy({ router, timers: fastTimers });
    const uac = await SippProcess.start({ scenario: "uac-call.xml", remote: proxy });
    const [caller, r, a] = await Promise.all([uac.wait(), ringing.wait(), answering.wait()]);
    expect(caller.exitCode, caller.errors).toBe(0);
    expect(a.exitCode, a.errors).toBe(0);
    expect(r.exitCode, r.errors).toBe(0);
    expect(r.messages.filter((m) => m.direction === "received").map((m) => m.method)).toEqual([
      "INVITE",
      "CANCEL",
      "ACK",
    ]);
    // The caller never saw the 487 of the cancelled branch.
    expect(caller.messages.some((m) => m.status === 487)).toBe(false);
    await proxy.settled();
  });

  it("answers with the best final response when every branch fails (6xx wins over 4xx)", async () => {
    const busy = await SippProcess.start({ scenario: "uas-reject.xml", sets: { status: "486" } });
    const decline = await SippProcess.start({ scenario: "uas-reject.xml", sets: { status: "603" } });
    const router = new TestRouter(() =>
      forward([
        {
          targets: [loopbackTarget(busy.port), loopbackTarget(decline.port)],
          failoverResponseCodes: [503],
          failoverTimeoutMs: null,
        },
      ]),
    );
    proxy = await startTestProxy({ router, timers: fastTimers });
    const uac = await SippProcess.start({
      scenario: "uac-reject.xml",
      remote: proxy,
      keys: { maxfwd: "70" },
    });
    const [caller] = await Promise.all([uac.wait(), busy.wait(), decline.wait()]);
    expect(caller.exitCode, caller.errors).toBe(0);
    const finals = caller.messages.filter((m) => m.direction === "received" && (m.status ?? 0) >= 200);
    expect(finals.map((m) => m.status)).toEqual([603]);
    await proxy.settled();
  });
});

describe("parallel forking with a target that fails at once", () => {
  it("waits for the other branch instead of judging the step early", async () => {
    const good = await SippProcess.start({ scenario: "uas-answer.xml" });
    // The proxy listens on UDP only: a TCP target fails before anything is sent.
    const unreachable = loopbackTarget(good.port, { transport: "tcp" });
    const router = new TestRouter(() =>
      forward([
        {
          targets: [unreachable, loopbackTarget(good.port)],
          failoverResponseCodes: [],
          failoverTimeoutMs: null,
        },
      ]),
    );
    proxy = await startTestProxy({ router, transports: ["udp"], timers: fastTimers });
    const uac = await SippProcess.start({ scenario: "uac-call.xml", remote: proxy });
    const [caller, g] = await Promise.all([uac.wait(), good.wait()]);
    expect(caller.exitCode, caller.errors).toBe(0);
    expect(g.exitCode, g.errors).toBe(0);
    expect(proxy.events.find((e) => e.type === "attempt-failed")).toMatchObject({ cause: "transport" });
    await proxy.settled();
  });
});

describe("RFC 3261 §18.1.1 size limit", () => {
  it("sends a request larger than 1300 bytes over TCP although the target says UDP", async () => {
    // The gateway only listens on TCP; the router asks for UDP.
    const gw = await SippProcess.start({
      scenario: "uas-reject.xml",
      transport: "tcp",
      sets: { status: "486" },
    });
    const router = new TestRouter(() =>
      forward([{ targets: [loopbackTarget(gw.port)], failoverResponseCodes: [], failoverTimeoutMs: null }]),
    );
    proxy = await startTestProxy({ router, timers: fastTimers });
    const c = await RawSipClient.open("udp", proxy);
    clients.push(c);
    const sdp = `v=0\r\no=big 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n${"a=x-padding:0123456789abcdef\r\n".repeat(60)}`;
    c.send(
      rawRequest("INVITE", `sip:+14255550100@127.0.0.1:${proxy.port}`, "udp", {
        body: sdp,
        extra: ["Content-Type: application/sdp"],
      }),
    );
    expect((await c.response()).status).toBe(486);
    const g = await gw.wait();
    expect(g.exitCode, g.errors).toBe(0);
    const invite = g.messages.find((m) => m.direction === "received" && m.method === "INVITE")!;
    expect(invite.transport).toBe("TCP");
    expect(invite.header("Via")[0]).toMatch(/^SIP\/2\.0\/TCP /);
  });
});
