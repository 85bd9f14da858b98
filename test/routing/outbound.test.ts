import { describe, expect, it } from "vitest";
import type { RoutingDecision } from "../../src/routing/decision.js";
import { createCallRouter, type GatewayHealth } from "../../src/routing/index.js";
import { routingConfig } from "./fixture.js";
import { headerOf, request, testDeps } from "./support.js";

// Callers from 10.9.0.0/16 are trusted: these tests are about routing, not digest.
const fromAlice = (dialled: string, extra: Partial<Parameters<typeof request>[0]> = {}) =>
  request({
    requestUri: `sip:${dialled}@proxy.example.net`,
    from: "sip:alice@contoso.com",
    source: "10.9.1.1",
    contact: "sip:alice@10.9.1.1:5070",
    ...extra,
  });

function forward(d: RoutingDecision) {
  if (d.kind !== "forward") throw new Error(`expected forward, got ${d.status} ${d.reason}`);
  return d;
}

const uris = (d: RoutingDecision) => forward(d).steps.map((s) => s.targets.map((t) => t.requestUri));

describe("outbound voice routing", () => {
  it("normalizes the Request-URI user part and sends sip:<number>@<fqdn>:<port>;user=phone", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const d = forward(await router.route(fromAlice("4255550199")));
    const first = d.steps.flatMap((s) => s.targets).find((t) => t.gateway === "sbc1.contoso.com");
    expect(first?.requestUri).toBe("sip:+14255550199@sbc1.contoso.com:5061;user=phone");
    expect(first?.destination).toEqual({ host: "10.0.0.1", port: 5061, transport: "udp" });
    expect(d.call).toMatchObject({
      direction: "dr_out",
      tenantId: "contoso",
      callerUserId: "alice@contoso.com",
      dialledNumber: "4255550199",
      normalizedNumber: "+14255550199",
    });
  });

  it("walks routes by priority: the better route's gateways (shuffled) first, then the backup, none twice", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const d = await router.route(fromAlice("+14255550199"));
    const labels = forward(d).steps.map((s) => s.targets[0]?.gateway);
    expect(labels.slice(0, 2).sort()).toEqual(["sbc1.contoso.com", "sbc2.contoso.com"]);
    // RedmondBackup lists sbc3 and sbc1; sbc1 was already listed by Redmond1.
    expect(labels.slice(2)).toEqual(["sbc3.contoso.com"]);
  });

  it("shuffles a route's gateways with the injected random source (Fisher–Yates)", async () => {
    const order = async (random: () => number) => {
      const router = createCallRouter(routingConfig(), testDeps({ random }));
      return forward(await router.route(fromAlice("+12065550199"))).steps.map((s) => s.targets[0]?.gateway);
    };
    // j = floor(r * (i + 1)): r = 0 swaps the last with the first; r ≈ 1 keeps the order.
    expect(await order(() => 0)).toEqual(["sbc2.contoso.com", "sbc1.contoso.com"]);
    expect(await order(() => 0.999)).toEqual(["sbc1.contoso.com", "sbc2.contoso.com"]);
  });

  it("applies the gateway's outbound translation rules to the Request-URI, To and From", async () => {
    const router = createCallRouter(routingConfig(), testDeps({ random: () => 0 }));
    const d = forward(await router.route(fromAlice("+12065550199")));
    const sbc2 = d.steps[0]?.targets[0];
    expect(sbc2?.requestUri).toBe("sip:12065550199@sbc2.contoso.com:5062;user=phone");
    expect(sbc2?.destination.transport).toBe("tcp");
    expect(sbc2?.headerEdits?.toUri).toBe("sip:12065550199@sbc2.contoso.com;user=phone");
    expect(sbc2?.headerEdits?.from).toBe('"Alice" <sip:14255550100@proxy.example.net;user=phone>');
    expect(sbc2?.headerEdits?.remove).toEqual(
      expect.arrayContaining(["P-Asserted-Identity", "History-Info", "Referred-By"]),
    );
  });

  it("gives each gateway its own step with its failover codes and timer", async () => {
    const router = createCallRouter(routingConfig(), testDeps({ random: () => 0.999 }));
    const d = forward(await router.route(fromAlice("+14255550199")));
    expect(d.steps.map((s) => [s.targets.length, s.failoverResponseCodes, s.failoverTimeoutMs])).toEqual([
      [1, [408, 503, 504], 10_000],
      [1, [503], 4_000],
      [1, [408, 503, 504], 10_000],
    ]);
  });

  it("with forwardPai puts the caller in P-Asserted-Identity with Privacy: id and an anonymous From", async () => {
    const health: GatewayHealth = { isHealthy: () => true, recordExchange: () => {} };
    const router = createCallRouter(routingConfig(), testDeps({ health }));
    const d = forward(
      await router.route(fromAlice("+14255550199", { headers: { "referred-by": ["<sip:x@y>"] } })),
    );
    const sbc3 = d.steps.flatMap((s) => s.targets).find((t) => t.gateway === "sbc3.contoso.com");
    expect(sbc3?.headerEdits?.from).toBe('"Anonymous" <sip:anonymous@anonymous.invalid>');
    expect(sbc3?.headerEdits?.add).toEqual([
      ["P-Asserted-Identity", '"Alice" <sip:+14255550100@proxy.example.net;user=phone>'],
      ["Privacy", "id"],
    ]);
    // forwardCallHistory: History-Info and Referred-By stay.
    expect(sbc3?.headerEdits?.remove).not.toContain("Referred-By");
    expect(d.call?.direction).toBe("dr_out_user_transfer");
  });

  it("uses the first usage with a matching route and never falls through to later usages", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    // +44… matches only International (alice's second usage).
    expect(uris(await router.route(fromAlice("+442071234567")))).toEqual([
      ["sip:442071234567@sbc2.contoso.com:5062;user=phone"],
    ]);
    // With every US gateway disabled, a US number gets no gateway, although International matches it.
    const disabled = createCallRouter(
      routingConfig((c) => {
        for (const g of c.gateways ?? []) if (g.fqdn !== "sbc2.contoso.com") g.enabled = false;
        c.tenants![0]!.voiceRoutes![0]!.onlinePstnGatewayList = ["sbc1.contoso.com"];
      }),
      testDeps(),
    );
    const d = await disabled.route(fromAlice("+14255550199"));
    expect(d).toMatchObject({ kind: "respond", status: 480 });
  });

  it("uses the tenant's Global policy for a user without one", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const dave = (n: string) =>
      request({ requestUri: `sip:${n}@contoso.com`, from: "sip:dave@contoso.com", source: "10.9.0.5" });
    expect(forward(await router.route(dave("+14255550199"))).steps.length).toBe(3);
    // Global has no International usage.
    const d = await router.route(dave("+442071234567"));
    expect(d).toMatchObject({ kind: "respond", status: 404, reason: "No Route Found" });
    expect(headerOf(d, "Reason")).toEqual(['Q.850;cause=3;text="No route to destination"']);
  });

  it("leaves out disabled gateways and gateways at capacity, and tries unhealthy ones last", async () => {
    const health: GatewayHealth = {
      isHealthy: (g) => g.fqdn !== "sbc1.contoso.com",
      recordExchange: () => {},
    };
    const full = { atCapacity: async () => new Set(["sbc3.contoso.com"]) };
    const router = createCallRouter(
      routingConfig(),
      testDeps({ health, capacity: full, random: () => 0.999 }),
    );
    const d = forward(await router.route(fromAlice("+14255550199")));
    expect(d.steps.map((s) => s.targets[0]?.gateway)).toEqual(["sbc2.contoso.com", "sbc1.contoso.com"]);
    const intl = forward(await router.route(fromAlice("+33123456789")));
    expect(intl.steps.map((s) => s.targets[0]?.gateway)).toEqual(["sbc2.contoso.com"]);
  });

  it("routes emergency masks as the dial string through the emergency usage, ignoring capacity", async () => {
    const full = { atCapacity: async () => new Set(["sbc3.contoso.com"]) };
    const router = createCallRouter(routingConfig(), testDeps({ capacity: full }));
    for (const dialled of ["112", "999", "911"]) {
      const d = forward(await router.route(fromAlice(dialled)));
      expect(uris(d)).toEqual([["sip:911@sbc3.contoso.com:5063;user=phone"]]);
      expect(d.call).toMatchObject({
        direction: "dr_emergency_out",
        dialledNumber: dialled,
        normalizedNumber: "911",
      });
    }
  });

  it("sends a number assigned to a user of the same tenant to that user (internal call)", async () => {
    const deps = testDeps();
    const router = createCallRouter(routingConfig(), deps);
    // bob's number has ;ext=0101; dialled without it, he is still the only user on it.
    const d = forward(await router.route(fromAlice("+14255550101")));
    expect(d.steps).toEqual([
      {
        targets: [
          {
            requestUri: "sip:bob@10.1.1.2:5094",
            destination: { host: "10.1.1.2", port: 5094, transport: "udp" },
            label: "bob@contoso.com (static)",
            gateway: null,
          },
        ],
        failoverResponseCodes: [],
        failoverTimeoutMs: null,
      },
    ]);
    expect(d.call).toMatchObject({ direction: "internal", calleeUserId: "bob@contoso.com" });
    // carol has no contact and no registration.
    expect(await router.route(fromAlice("+14255550102"))).toMatchObject({ kind: "respond", status: 480 });
  });

  it("calls a user of the tenant addressed by SIP address", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const d = forward(await router.route(fromAlice("bob", { requestUri: "sip:bob@contoso.com" })));
    expect(d.steps[0]?.targets[0]?.requestUri).toBe("sip:bob@10.1.1.2:5094");
  });

  it("answers 484 when the Request-URI holds no dialable number", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const d = await router.route(fromAlice("call-me"));
    expect(d).toMatchObject({ kind: "respond", status: 484 });
  });
});
