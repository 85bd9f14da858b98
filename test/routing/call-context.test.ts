// The router boundary's call context: what the router decided reaches the recorder (CDR fields
// the SIP events cannot tell), on forwards and on refusals of identified callers.
import { describe, expect, it } from "vitest";
import type { RoutingDecision } from "../../src/routing/decision.js";
import { createCallRouter } from "../../src/routing/index.js";
import { routingConfig } from "./fixture.js";
import { request, testDeps } from "./support.js";

const fromAlice = (dialled: string, headers: Record<string, string[]> = {}) =>
  request({
    requestUri: `sip:${dialled}@proxy.example.net`,
    from: "sip:alice@contoso.com",
    source: "10.9.1.1",
    contact: "sip:alice@10.9.1.1:5070",
    headers,
  });
const fromTrunk = (called: string) =>
  request({
    requestUri: `sip:${called}@proxy.example.net;user=phone`,
    from: "sip:12065550123@northwind.trunk.carrier.net;user=phone",
    contact: "sip:12065550123@northwind.trunk.carrier.net:5061",
    source: "10.0.1.1",
  });

const withCarriers = () =>
  routingConfig((c) => {
    c.gateways![0]!.carrier = "fabrikam";
    c.carriers = [
      { id: "fabrikam", name: "Fabrikam" },
      { id: "numbersco", name: "Numbers Co", numbers: [{ number: "+14255550100", tenant: "contoso" }] },
    ];
  });

const targets = (d: RoutingDecision) => (d.kind === "forward" ? d.steps.flatMap((s) => s.targets) : []);

describe("call context on the router boundary", () => {
  it("outbound: user, dial plan outcome, usage, number carriers; each target its route and carrier", async () => {
    const router = createCallRouter(withCarriers(), testDeps({ random: () => 0.999 }));
    const d = await router.route(fromAlice("+14255550199"));
    expect(d.kind).toBe("forward");
    if (d.kind !== "forward") return;
    expect(d.call).toMatchObject({
      direction: "dr_out",
      tenantId: "contoso",
      callerUserId: "alice@contoso.com",
      userPrincipalName: "alice@contoso.com",
      userDisplayName: "Alice",
      callerNumber: "+14255550100",
      calleeNumber: "+14255550199",
      pstnUsage: "US and Canada",
      numberCarriers: ["numbersco"],
    });
    expect(d.call?.effectiveTenantDialPlanName).toEqual(expect.any(String));
    expect(targets(d).map((t) => [t.gateway, t.voiceRoute, t.carrier])).toEqual([
      ["sbc1.contoso.com", "Redmond1", "fabrikam"],
      ["sbc2.contoso.com", "Redmond1", null],
      ["sbc3.contoso.com", "RedmondBackup", null],
    ]);
  });

  it("a REFER-initiated call (Referred-By) is dr_out_user_transfer", async () => {
    const router = createCallRouter(withCarriers(), testDeps());
    const d = await router.route(fromAlice("+14255550199", { "referred-by": ["<sip:bob@contoso.com>"] }));
    expect(d.kind === "forward" && d.call?.direction).toBe("dr_out_user_transfer");
  });

  it("a refused call of an identified user carries its context (404 no route)", async () => {
    const router = createCallRouter(withCarriers(), testDeps());
    const d = await router.route(
      request({
        requestUri: "sip:+442071234567@proxy.example.net",
        from: "sip:carol@contoso.com",
        source: "10.9.1.1",
        contact: "sip:carol@10.9.1.1:5070",
      }),
    );
    expect(d).toMatchObject({
      kind: "respond",
      status: 404,
      call: { direction: "dr_out", tenantId: "contoso", callerUserId: "carol@contoso.com", pstnUsage: null },
    });
  });

  it("an unknown caller's refusal carries no context (no CDR for scanners)", async () => {
    const router = createCallRouter(withCarriers(), testDeps());
    const d = await router.route(
      request({
        requestUri: "sip:+14255550199@proxy.example.net",
        from: "sip:mallory@evil.example",
        source: "192.0.2.9",
      }),
    );
    expect(d).toMatchObject({ kind: "respond", status: 403 });
    expect(d.kind === "respond" && d.call).toBeUndefined();
  });

  it("inbound: the trunk's carrier, the callee as the record's user; unassigned refusals too", async () => {
    const router = createCallRouter(withCarriers(), testDeps());
    const d = await router.route(fromTrunk("12065550100"));
    expect(d.kind).toBe("forward");
    expect(d.kind === "forward" && d.call).toMatchObject({
      direction: "dr_in",
      tenantId: "northwind",
      calleeUserId: "nina@northwind.com",
      userPrincipalName: "nina@northwind.com",
      callerNumber: "+12065550123",
      calleeNumber: "+12065550100",
      // A derived trunk: its own FQDN on the record, its carrier trunk's owner.
      gatewayFqdn: "northwind.trunk.carrier.net",
      gatewayCarrier: "fabrikam",
    });
    const refused = await router.route(fromTrunk("12065559999"));
    expect(refused).toMatchObject({
      kind: "respond",
      status: 404,
      call: { direction: "dr_in", gatewayCarrier: "fabrikam", calleeNumber: "+12065559999" },
    });
  });

  it("an unassigned number forwarded by the tenant's treatment is dr_unassigned_in", async () => {
    const config = routingConfig((c) => {
      c.tenants![0]!.unassignedNumberTreatment = { target: "sip:+14255550000@sbc3.contoso.com" };
    });
    const router = createCallRouter(config, testDeps());
    const d = await router.route(
      request({
        requestUri: "sip:+14255559999@proxy.example.net;user=phone",
        from: "sip:+12065550123@sbc1.contoso.com;user=phone",
        contact: "sip:+12065550123@sbc1.contoso.com:5061",
        source: "10.0.0.1",
      }),
    );
    expect(d.kind === "forward" && d.call?.direction).toBe("dr_unassigned_in");
  });
});
