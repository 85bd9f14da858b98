// Ending a bridged call whose dialogs drachtio-server no longer knows. drachtio-srf's
// `dialog.destroy()` returns a Promise when given no callback, rejected with ENODIALOG
// ("unable to find dialog") when drachtio-server has already torn the dialog down -- the very
// case of the CDR sweep's closeStale (drachtio-server reported the call over) or of a
// drachtio-server restarted mid-call. Left unhandled, that rejection stops the process.
// Real drachtio-server (restarted under a bridged call), SIPp on both sides.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallEventBus } from "../../src/calls/events.js";
import type { DrachtioEdge } from "../../src/sip/drachtio/drachtio-edge.js";
import { ALICE, HOST } from "../support/cdr-e2e.js";
import { uacScenario } from "../support/cdr-scenarios.js";
import { startDrachtioEdge } from "../support/drachtio-edge.js";
import { DrachtioServer } from "../support/drachtio-server.js";
import { freeUdpPort, waitFor } from "../support/free-port.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { forward, loopbackTarget, serialSteps, TestRouter } from "../support/test-router.js";

let server: DrachtioServer;
let edge: DrachtioEdge;
let gatewayPort: number;
const events = new CallEventBus();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  server = await DrachtioServer.start();
  gatewayPort = await freeUdpPort();
  edge = await startDrachtioEdge(server, {
    router: new TestRouter(() => forward(serialSteps([loopbackTarget(gatewayPort)]))),
    events,
    // The sweep runs only when a test calls it: what it would mend must not hide a leak.
    cdrSweepIntervalMs: 3_600_000,
  });
});

afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await killAllSipp();
  await edge?.stop();
  await server?.stop();
});

describe("a party that hangs up right after the ACK", () => {
  // The BYE can reach the edge in the same read as the confirmation that the 200 went out to
  // the caller, or while that 200 is on its way: before the two dialogs are bridged.
  const cases = [
    { who: "caller", gateway: "uas-answer.xml", mode: "caller-hangs-up" },
    { who: "callee", gateway: "uas-answer-then-hang-up.xml", mode: "callee-hangs-up" },
  ] as const;
  for (const c of cases) {
    it(`ends every call in the edge when the ${c.who} does, without waiting for the CDR sweep`, async () => {
      const calls = 200;
      const ended = new Map<string, string>();
      const received = new Set<string>();
      const off = events.subscribe((e) => {
        if (e.type === "received") received.add(e.callId);
        if (e.type === "ended") ended.set(e.callId, e.by);
      });
      const gateway = await SippProcess.start({ scenario: c.gateway, port: gatewayPort, calls, pauseMs: 0 });
      const caller = await SippProcess.start({
        scenario: uacScenario({ mode: c.mode, from: ALICE }),
        remote: { host: HOST, port: server.sipPort },
        service: "+14255550123",
        calls,
        rate: 100,
        pauseMs: 0,
      });
      const result = await caller.wait();
      await gateway.wait();
      expect(result.exitCode, result.errors).toBe(0);
      await waitFor(
        () => edge.stats.dialogs === 0 && edge.stats.calls === 0 && ended.size === calls,
        10_000,
        "every call to end in the edge",
      ).catch(() => undefined);
      off();
      expect({
        received: received.size,
        ended: ended.size,
        endedBy: [...new Set(ended.values())],
        stillUp: edge.stats.dialogs + edge.stats.calls,
      }).toEqual({ received: calls, ended: calls, endedBy: [c.who], stillUp: 0 });
    });
  }
});

describe("a bridged call whose callee's BYE never reached this instance", () => {
  it("is closed by the CDR sweep from the stop on the gateway's leg (drachtio's own Call-ID)", async () => {
    const answered: string[] = [];
    const ended: { callId: string; by: string }[] = [];
    const off = events.subscribe((e) => {
      if (e.type === "answered") answered.push(e.callId);
      if (e.type === "ended") ended.push({ callId: e.callId, by: e.by });
    });
    try {
      const gateway = await SippProcess.start({ scenario: "uas-answer.xml", port: gatewayPort });
      const caller = await SippProcess.start({
        scenario: uacScenario({ mode: "callee-hangs-up", from: ALICE }),
        remote: { host: HOST, port: server.sipPort },
        service: "+14255550123",
      });
      await waitFor(
        () => answered.length === 1 && edge.stats.dialogs === 1,
        20_000,
        "the call to be bridged",
      );
      const callId = answered[0] ?? "";
      const gatewayLeg =
        gateway
          .messagesSoFar()
          .find((m) => m.direction === "received" && m.method === "INVITE")
          ?.header("Call-ID")[0] ?? "";
      expect(gatewayLeg).not.toBe(callId);
      // drachtio-server reports the gateway's leg under the Call-ID the gateway saw.
      await waitFor(
        async () => {
          await edge.cdr.settled();
          return (await edge.callStore.get(gatewayLeg))?.startAt != null;
        },
        10_000,
        "cdr:start of the gateway's leg",
      );
      // The gateway hung up and the stop of its leg went to another instance, which wrote it to
      // the store; the BYE itself never reached this one (written here directly).
      const now = Date.now();
      await edge.callStore.update(
        gatewayLeg,
        { stopAt: now - 60_000, stopReason: "normal-release:network" },
        now,
      );
      await edge.cdr.sweep();
      expect(ended).toEqual([{ callId, by: "callee" }]);
      // Both parties got a BYE from the sweep (each scenario waits for one).
      expect((await caller.wait()).exitCode).toBe(0);
      expect((await gateway.wait()).exitCode).toBe(0);
      expect(edge.stats.dialogs).toBe(0);
    } finally {
      off();
    }
  });
});

describe("a bridged call whose dialogs drachtio-server lost", () => {
  it("is closed by the CDR sweep without an unhandled rejection", async () => {
    const answered: string[] = [];
    const off = events.subscribe((e) => {
      if (e.type === "answered") answered.push(e.callId);
    });
    const gateway = await SippProcess.start({ scenario: "uas-answer.xml", port: gatewayPort });
    const caller = await SippProcess.start({
      scenario: uacScenario({ mode: "caller-hangs-up", from: ALICE }),
      remote: { host: HOST, port: server.sipPort },
      service: "+14255550123",
      pauseMs: 60_000,
    });
    await waitFor(() => answered.length === 1 && edge.stats.dialogs === 1, 20_000, "the call to be bridged");
    const callId = answered[0] ?? "";

    // drachtio-server restarts: the dialogs of the call are gone with it.
    const connects = edge.connection.connects;
    server = await server.restart();
    await waitFor(() => edge.connection.connects > connects && edge.connection.state === "connected", 30_000);

    // Its CDR said the call is over (here written directly): the sweep closes it here.
    const now = Date.now();
    await edge.callStore.update(callId, { stopAt: now - 60_000, stopReason: "normal-release:network" }, now);
    const ended: string[] = [];
    const offEnded = events.subscribe((e) => {
      if (e.type === "ended") ended.push(e.callId);
    });
    await edge.cdr.sweep();
    expect(ended).toEqual([callId]);
    expect(edge.stats.dialogs).toBe(0);
    // drachtio-server's answers to the BYEs (no such dialog) have time to come back.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(unhandled.map(String)).toEqual([]);
    off();
    offEnded();
    await caller.kill();
    await gateway.kill();
  });
});
