// The router on the real dial plan engine and .NET dialect (the defaults of createCallRouter),
// with the example configuration shipped in config/.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfigText, validateConfig } from "../../src/config/load.js";
import { InMemoryRegistrationStore } from "../../src/directory/registrations.js";
import { createCallRouter, everyGatewayHealthy, unlimitedCapacity } from "../../src/routing/index.js";
import { validateRouting } from "../../src/routing/validate-config.js";
import { ManualClock } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";
import { routingConfig } from "./fixture.js";
import { request } from "./support.js";

const example = parseConfigText(readFileSync(new URL("../../config/dialgate.yaml", import.meta.url), "utf8"));

function router() {
  if (!example.ok) throw new Error(JSON.stringify(example.problems));
  return createCallRouter(example.config, {
    clock: new ManualClock(),
    random: () => 0.999,
    logger: silentLogger(),
    registrations: new InMemoryRegistrationStore(),
    health: everyGatewayHealthy,
    capacity: unlimitedCapacity,
  });
}

const fromAlice = (dialled: string) =>
  request({ requestUri: `sip:${dialled}@127.0.0.1`, from: "sip:alice@contoso.com", source: "127.0.0.1" });

describe("routing with the dial plan engine", () => {
  it("applies alice's Redmond plan (external access prefix, 5-digit extension) before voice routing", async () => {
    const d = await router().route(fromAlice("9-50123"));
    if (d.kind !== "forward") throw new Error(`${d.status} ${d.reason}`);
    expect(d.call?.normalizedNumber).toBe("+14255550123");
    expect(d.steps.map((s) => s.targets[0]?.requestUri)).toEqual([
      "sip:+14255550123@sbc1.contoso.com:5090;user=phone",
      // sbc2 strips the + (StripPlus).
      "sip:14255550123@sbc2.contoso.com:5092;user=phone",
    ]);
  });

  it("reaches bob by reverse number lookup through the 4-digit global rule", async () => {
    const d = await router().route(fromAlice("+14255550101"));
    expect(d).toMatchObject({
      kind: "forward",
      call: { direction: "internal", calleeUserId: "bob@contoso.com" },
    });
  });
});

describe("validateRouting", () => {
  it("reports a bad number pattern and translation rule with their paths", () => {
    const config = routingConfig();
    const bad = {
      ...config,
      translationRules: [{ identity: "Broken", pattern: "^(?(1)a|b)$", translation: "$1" }],
      tenants: config.tenants.map((t, i) =>
        i === 0
          ? {
              ...t,
              voiceRoutes: t.voiceRoutes.map((r, ri) => (ri === 1 ? { ...r, numberPattern: "^(\\d+" } : r)),
            }
          : t,
      ),
    };
    const paths = validateRouting(bad).map((p) => p.path);
    expect(paths).toEqual(["translationRules[0].pattern", "tenants[0].voiceRoutes[1].numberPattern"]);
  });

  it("is part of loading a configuration", () => {
    const r = validateConfig({
      sip: { listen: [{ transport: "udp", host: "127.0.0.1", port: 5060 }], recordRouteHost: "127.0.0.1" },
      gateways: [{ fqdn: "gw.example.com" }],
      tenants: [
        {
          id: "t",
          domains: ["example.com"],
          pstnUsages: ["u"],
          voiceRoutes: [
            { identity: "r", numberPattern: "^[a-z-[aeiou]]$", priority: 1, onlinePstnUsages: ["u"] },
          ],
        },
      ],
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toContain("tenants[0].voiceRoutes[0].numberPattern");
  });
});
