import { describe, expect, it } from "vitest";
import { createDirectory } from "../../src/directory/directory.js";
import { InMemoryRegistrationStore } from "../../src/directory/registrations.js";
import type { RoutingDecision } from "../../src/routing/decision.js";
import { GatewayDirectory } from "../../src/routing/gateways.js";
import { tenantOfGateway } from "../../src/routing/inbound.js";
import { createCallRouter } from "../../src/routing/index.js";
import { routingConfig } from "./fixture.js";
import { headerOf, request, testDeps } from "./support.js";

const fromGateway = (called: string, host = "sbc1.contoso.com", source = "10.0.0.1") =>
  request({
    requestUri: `sip:${called}@proxy.example.net;user=phone`,
    from: `sip:+12065550123@${host};user=phone`,
    contact: `sip:+12065550123@${host}:5061`,
    source,
  });

function forward(d: RoutingDecision) {
  if (d.kind !== "forward") throw new Error(`expected forward, got ${d.status} ${d.reason}`);
  return d;
}

describe("inbound routing", () => {
  it("finds the user by exact number including ;ext= and forwards to the static contact", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const d = forward(await router.route(fromGateway("+14255550101;ext=0101")));
    expect(d.steps).toHaveLength(1);
    expect(d.steps[0]?.targets.map((t) => t.requestUri)).toEqual(["sip:bob@10.1.1.2:5094"]);
    expect(d.call).toMatchObject({
      direction: "dr_in",
      tenantId: "contoso",
      calleeUserId: "bob@contoso.com",
      gatewayFqdn: "sbc1.contoso.com",
      callerNumber: "+12065550123",
    });
  });

  it("does not match a number without the assigned extension, nor one without +", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    for (const n of ["+14255550101", "14255550101;ext=0101", "+14255550100;ext=1"]) {
      const d = await router.route(fromGateway(n));
      expect(d).toMatchObject({ kind: "respond", status: 404 });
      expect(headerOf(d, "Reason")[0]).toContain("Unallocated");
    }
  });

  it("forks to every registered contact of the user in one parallel step", async () => {
    const deps = testDeps();
    const router = createCallRouter(routingConfig(), deps);
    const register = (contact: string, port: number) =>
      router.route(
        request({
          method: "REGISTER",
          requestUri: "sip:contoso.com",
          from: "sip:carol@contoso.com",
          to: "sip:carol@contoso.com",
          contacts: [{ uri: contact }],
          source: "10.9.4.4",
          sourcePort: port,
          callId: `reg-${port}`,
        }),
      );
    await register("sip:carol@10.9.4.4:5071", 5071);
    await register("sip:carol@10.9.4.5:5072;transport=tcp", 5072);
    const d = forward(await router.route(fromGateway("+14255550102")));
    expect(d.steps).toHaveLength(1);
    expect(d.steps[0]?.targets.map((t) => [t.requestUri, t.destination])).toEqual([
      ["sip:carol@10.9.4.4:5071", { host: "10.9.4.4", port: 5071, transport: "udp" }],
      ["sip:carol@10.9.4.5:5072;transport=tcp", { host: "10.9.4.5", port: 5072, transport: "tcp" }],
    ]);
    expect(d.steps[0]?.failoverResponseCodes).toEqual([]);
  });

  it("answers 480 when the user has neither a registration nor a static contact", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    expect(await router.route(fromGateway("+14255550102"))).toMatchObject({ kind: "respond", status: 480 });
  });

  it("sends an unassigned number to the tenant's treatment target when configured", async () => {
    const config = routingConfig((c) => {
      c.tenants![0]!.unassignedNumberTreatment = { target: "sip:+14255550000@sbc3.contoso.com" };
    });
    const router = createCallRouter(config, testDeps());
    const d = forward(await router.route(fromGateway("+14255559999")));
    expect(d.steps[0]?.targets[0]).toMatchObject({
      requestUri: "sip:+14255550000@sbc3.contoso.com",
      destination: { host: "10.0.0.3", port: 5063, transport: "udp" },
      gateway: "sbc3.contoso.com",
    });
  });

  it("applies the gateway's inbound translation rules to the called and calling numbers", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const d = forward(
      await router.route(fromGateway("12065550100", "northwind.trunk.carrier.net", "10.0.1.1")),
    );
    expect(d.call).toMatchObject({
      tenantId: "northwind",
      calleeUserId: "nina@northwind.com",
      dialledNumber: "12065550100",
    });
    expect(d.steps[0]?.targets[0]?.requestUri).toBe("sip:nina@10.2.2.2");
    // The From number had its + already; AddPlus does not match, so From is untouched.
    expect(d.headerEdits).toBeUndefined();
    const other = request({
      requestUri: "sip:12065550100@proxy.example.net",
      from: "sip:4255551234@northwind.trunk.carrier.net",
      contact: "sip:4255551234@northwind.trunk.carrier.net",
      source: "10.0.1.1",
    });
    expect(forward(await router.route(other)).headerEdits?.from).toBe(
      "<sip:+4255551234@northwind.trunk.carrier.net>",
    );
  });

  it("takes the tenant from the gateway's tenant field, else its FQDN minus one label", () => {
    const config = routingConfig();
    const directory = createDirectory(config);
    const gateways = GatewayDirectory.fromConfig(config);
    const tenant = (fqdn: string) => {
      const g = gateways.resolveFqdn(fqdn);
      return g === undefined ? undefined : tenantOfGateway(directory, g)?.id;
    };
    expect(tenant("pbx.partner.org")).toBe("contoso");
    expect(tenant("sbc1.contoso.com")).toBe("contoso");
    expect(tenant("northwind.trunk.carrier.net")).toBe("northwind");
    expect(tenant("trunk.carrier.net")).toBeUndefined();
  });

  it("rejects calls from a gateway that belongs to no tenant as unassigned", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const d = await router.route(fromGateway("+14255550100", "trunk.carrier.net", "10.0.1.1"));
    expect(d).toMatchObject({ kind: "respond", status: 404 });
  });

  it("keeps registrations in the store it is given", async () => {
    const registrations = new InMemoryRegistrationStore();
    const deps = testDeps({ registrations });
    await registrations.put({
      aor: "carol@contoso.com",
      contactUri: "sip:carol@10.9.9.9:5999",
      key: "k",
      expiresAt: deps.clock.now() + 60_000,
      callId: "c",
      cseq: 1,
      source: { address: "10.9.9.9", port: 5999, transport: "udp" },
      destination: { host: "10.9.9.9", port: 5999, transport: "udp" },
    });
    const router = createCallRouter(routingConfig(), deps);
    expect(forward(await router.route(fromGateway("+14255550102"))).steps[0]?.targets[0]?.requestUri).toBe(
      "sip:carol@10.9.9.9:5999",
    );
    deps.clock.advance(60_000);
    expect(await router.route(fromGateway("+14255550102"))).toMatchObject({ status: 480 });
  });
});
