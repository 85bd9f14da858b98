import { describe, expect, it } from "vitest";
import { CallEventBus } from "../../src/calls/events.js";
import { createRoutingRuntime } from "../../src/routing/index.js";
import { ManualClock } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";
import { routingConfig } from "./fixture.js";
import { jsDialect, request, toyDialPlan } from "./support.js";

describe("routing runtime", () => {
  it("counts calls from the event bus so a full gateway is left out, and frees it when the call ends", async () => {
    const events = new CallEventBus();
    const runtime = createRoutingRuntime(routingConfig(), {
      clock: new ManualClock(),
      random: () => 0.5,
      logger: silentLogger(),
      requester: { sendOptions: async () => 200 },
      events,
      overrides: { dialPlan: toyDialPlan, dialect: jsDialect },
    });
    const call = () =>
      runtime.router.route(
        request({
          requestUri: "sip:+14255550199@proxy.example.net",
          from: "sip:carol@contoso.com",
          source: "10.9.0.1",
        }),
      );
    const gatewaysOf = async () => {
      const d = await call();
      return d.kind === "forward" ? d.steps.map((s) => s.targets[0]?.gateway) : [];
    };
    expect(await gatewaysOf()).toContain("sbc3.contoso.com");
    const target = {
      requestUri: "sip:+14255550199@sbc3.contoso.com:5063;user=phone",
      destination: { host: "10.0.0.3", port: 5063, transport: "udp" as const },
      label: "sbc3.contoso.com",
      gateway: "sbc3.contoso.com",
    };
    events.emit({ type: "attempt-sent", callId: "x", at: 0, step: 0, target });
    expect(await gatewaysOf()).not.toContain("sbc3.contoso.com");
    events.emit({ type: "ended", callId: "x", at: 1, by: "caller" });
    expect(await gatewaysOf()).toContain("sbc3.contoso.com");
    runtime.stop();
  });
});
