import { describe, expect, it } from "vitest";
import { CallEventBus } from "../../src/calls/events.js";
import { InProcessGatewayCapacity } from "../../src/calls/gateway-call-counter.js";
import type { OutboundRequester, RouteTarget } from "../../src/routing/decision.js";
import { createCallRouter, GatewayHealthMonitor } from "../../src/routing/index.js";
import { ManualClock } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";
import { routingConfig } from "./fixture.js";
import { request, testDeps } from "./support.js";

const options = (spec: Partial<Parameters<typeof request>[0]>) =>
  request({
    method: "OPTIONS",
    requestUri: "sip:proxy.example.net",
    from: "sip:ping@unknown.example",
    ...spec,
  });

function monitorFor(answer: (host: string) => number | null) {
  const config = routingConfig();
  const clock = new ManualClock();
  const pings: string[] = [];
  const requester: OutboundRequester = {
    sendOptions: async (destination, requestUri) => {
      pings.push(`${destination.host}:${destination.port} ${requestUri}`);
      return answer(destination.host);
    },
  };
  const changes: string[] = [];
  const monitor = new GatewayHealthMonitor({
    gateways: config.gateways,
    clock,
    intervalMs: 60_000,
    requester,
    logger: silentLogger(),
    onChange: (g, healthy) => changes.push(`${g.fqdn} ${healthy ? "up" : "down"}`),
  });
  const gw = (fqdn: string) => {
    const g = config.gateways.find((x) => x.fqdn === fqdn);
    if (g === undefined) throw new Error(fqdn);
    return g;
  };
  return { config, clock, monitor, pings, changes, gw };
}

describe("OPTIONS", () => {
  it("answers known gateways 200 and credits their health; unknown sources 403", async () => {
    const recorded: string[] = [];
    const health = { isHealthy: () => true, recordExchange: (g: { fqdn: string }) => recorded.push(g.fqdn) };
    const router = createCallRouter(routingConfig(), testDeps({ health }));
    const ok = await router.route(options({ from: "sip:ping@sbc2.contoso.com", source: "10.0.0.2" }));
    expect(ok).toMatchObject({ kind: "respond", status: 200 });
    expect(recorded).toEqual(["sbc2.contoso.com"]);
    expect(await router.route(options({ source: "203.0.113.1" }))).toMatchObject({ status: 403 });
    // A derived trunk's keep-alive credits its carrier trunk.
    await router.route(options({ from: "sip:northwind.trunk.carrier.net", source: "10.0.1.1" }));
    expect(recorded).toEqual(["sbc2.contoso.com", "trunk.carrier.net"]);
  });

  it("answers a user's OPTIONS to the proxy itself", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const user = { from: "sip:carol@contoso.com", source: "10.9.1.1" };
    expect(await router.route(options({ ...user, addressedToProxy: true }))).toMatchObject({ status: 200 });
    expect(await router.route(options({ ...user, addressedToProxy: false }))).toMatchObject({ status: 403 });
  });
});

describe("gateway health monitor", () => {
  it("pings gateways with sendSipOptions and demotes one silent for three intervals, logging the change", async () => {
    const { clock, monitor, pings, changes, gw } = monitorFor((host) => (host === "10.0.0.1" ? null : 200));
    await monitor.probeAll();
    expect(pings).toContain("10.0.0.1:5061 sip:sbc1.contoso.com:5061");
    expect(monitor.isHealthy(gw("sbc1.contoso.com"))).toBe(true);
    clock.advance(60_000);
    await monitor.probeAll();
    clock.advance(60_000);
    await monitor.probeAll();
    expect(monitor.isHealthy(gw("sbc1.contoso.com"))).toBe(true);
    clock.advance(60_000);
    await monitor.probeAll();
    expect(monitor.isHealthy(gw("sbc1.contoso.com"))).toBe(false);
    expect(monitor.isHealthy(gw("sbc2.contoso.com"))).toBe(true);
    expect(changes).toEqual(["sbc1.contoso.com down"]);
    // An OPTIONS from the gateway itself is an exchange too.
    monitor.recordExchange(gw("sbc1.contoso.com"));
    expect(monitor.isHealthy(gw("sbc1.contoso.com"))).toBe(true);
    expect(changes).toEqual(["sbc1.contoso.com down", "sbc1.contoso.com up"]);
  });

  it("counts a 503 answer as a failed exchange", async () => {
    const { clock, monitor, gw } = monitorFor(() => 503);
    clock.advance(180_000);
    await monitor.probeAll();
    expect(monitor.isHealthy(gw("sbc3.contoso.com"))).toBe(false);
  });
});

describe("in-process gateway capacity", () => {
  const target = (gateway: string): RouteTarget => ({
    requestUri: `sip:1@${gateway}`,
    destination: { host: "10.0.0.3", port: 5063, transport: "udp" },
    label: gateway,
    gateway,
  });

  it("holds a gateway from attempt to end and releases it on failure or end", () => {
    const config = routingConfig();
    const counter = new InProcessGatewayCapacity(config.gateways, silentLogger());
    const bus = new CallEventBus();
    counter.attach(bus);
    const sbc3 = config.gateways.filter((g) => g.fqdn === "sbc3.contoso.com");
    bus.emit({ type: "attempt-sent", callId: "a", at: 0, step: 0, target: target("sbc3.contoso.com") });
    expect(counter.atCapacity(sbc3)).toEqual(new Set(["sbc3.contoso.com"]));
    bus.emit({
      type: "attempt-failed",
      callId: "a",
      at: 1,
      step: 0,
      target: target("sbc3.contoso.com"),
      status: 503,
      cause: "response",
    });
    expect(counter.callsInProgress("sbc3.contoso.com")).toBe(0);
    bus.emit({ type: "attempt-sent", callId: "b", at: 2, step: 0, target: target("sbc3.contoso.com") });
    bus.emit({
      type: "answered",
      callId: "b",
      at: 3,
      step: 0,
      target: target("sbc3.contoso.com"),
      status: 200,
    });
    expect(counter.callsInProgress("sbc3.contoso.com")).toBe(1);
    bus.emit({ type: "ended", callId: "b", at: 4, by: "caller" });
    bus.emit({ type: "ended", callId: "b", at: 5, by: "callee" });
    expect(counter.callsInProgress("sbc3.contoso.com")).toBe(0);
    expect(counter.atCapacity(sbc3).size).toBe(0);
  });

  it("makes the router leave a full gateway out", async () => {
    const config = routingConfig();
    const counter = new InProcessGatewayCapacity(config.gateways, silentLogger());
    counter.onEvent({
      type: "attempt-sent",
      callId: "x",
      at: 0,
      step: 0,
      target: target("sbc3.contoso.com"),
    });
    const router = createCallRouter(config, testDeps({ capacity: counter }));
    const d = await router.route(
      request({
        requestUri: "sip:+14255550199@proxy.example.net",
        from: "sip:carol@contoso.com",
        source: "10.9.0.1",
      }),
    );
    if (d.kind !== "forward") throw new Error("expected forward");
    expect(d.steps.map((s) => s.targets[0]?.gateway)).not.toContain("sbc3.contoso.com");
    expect(d.steps).toHaveLength(2);
  });
});
