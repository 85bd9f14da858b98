import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";

const example = readFileSync(new URL("../../config/dialgate.yaml", import.meta.url), "utf8");

function problems(text: string): string[] {
  const r = parseConfigText(text);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
}

const minimal = `
sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }]
  recordRouteHost: 127.0.0.1
`;

describe("configuration loading", () => {
  it("accepts the example configuration and applies the documented defaults", () => {
    const r = parseConfigText(example);
    if (!r.ok) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
    const sbc2 = r.config.gateways[1];
    expect(sbc2?.failoverResponseCodes).toEqual([408, 503, 504]);
    expect(sbc2?.failoverTimeSeconds).toBe(10);
    expect(r.config.sip.timers.t1Ms).toBe(500);
  });

  it("defaults a new gateway to disabled and a rule without pattern to ^(\\d{11})$ / +$1", () => {
    const r = parseConfigText(`${minimal}
gateways: [{ fqdn: sbc.example.com }]
tenants:
  - id: t
    domains: [example.com]
    dialPlans: { global: { normalizationRules: [{ name: r1 }] } }
`);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.config.gateways[0]?.enabled).toBe(false);
    expect(r.config.tenants[0]?.dialPlans.global?.normalizationRules[0]).toMatchObject({
      pattern: "^(\\d{11})$",
      translation: "+$1",
      isInternalExtension: false,
    });
  });

  it("reports every problem with its path, unknown keys included", () => {
    const found = problems(`
sip:
  listen: [{ transport: sctp, host: 127.0.0.1, port: 0 }]
  recordRouteHost: 127.0.0.1
  edgee: native
gateways: [{ fqdn: sbc.example.com, failoverTimeSecond: 5 }]
`);
    expect(found).toContain("sip.edgee: unknown key (check the spelling against the configuration contract)");
    expect(found).toContain(
      "gateways[0].failoverTimeSecond: unknown key (check the spelling against the configuration contract)",
    );
    expect(found.some((p) => p.startsWith("sip.listen[0].transport:"))).toBe(true);
    expect(found.some((p) => p.startsWith("sip.listen[0].port:"))).toBe(true);
  });

  it("reports dangling references between objects", () => {
    const found = problems(`${minimal}
gateways: [{ fqdn: sbc.example.com, outboundPstnNumberTranslationRules: [Nope] }]
tenants:
  - id: t
    domains: [example.com]
    pstnUsages: [Local]
    voiceRoutes:
      - { identity: r, numberPattern: '^\\+1', priority: 1, onlinePstnUsages: [Long], onlinePstnGatewayList: [sbc.other.com] }
    users:
      - { id: a@example.com, usageLocation: US, tenantDialPlan: Missing, onlineVoiceRoutingPolicy: Gone }
      - { id: b@elsewhere.com, usageLocation: US }
`);
    expect(found).toEqual(
      expect.arrayContaining([
        "gateways[0].outboundPstnNumberTranslationRules[0]: unknown translation rule 'Nope' (define it under translationRules)",
        "tenants[0].voiceRoutes[0].onlinePstnUsages[0]: unknown PSTN usage 'Long' (list it in tenants[0].pstnUsages)",
        "tenants[0].voiceRoutes[0].onlinePstnGatewayList[0]: unknown gateway 'sbc.other.com' (define it under gateways)",
        "tenants[0].users[0].tenantDialPlan: unknown dial plan 'Missing' (define it in tenants[0].dialPlans.plans)",
        "tenants[0].users[0].onlineVoiceRoutingPolicy: unknown voice routing policy 'Gone'",
        "tenants[0].users[1].id: user domain 'elsewhere.com' is not one of the tenant's domains (example.com)",
      ]),
    );
  });

  it("runs each semantic check on the parts that passed the schema, whatever else failed", () => {
    const found = problems(`
sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }]
  recordRouteHost: 127.0.0.1
  flood: { threshold: -1 }
  workers: 2
gateways: [{ fqdn: sbc.example.com, transport: tls }]
tenants:
  - id: t
    domains: [example.com]
    pstnUsages: [Local]
    dialPlans: { global: { normalizationRules: [{ name: bad, pattern: '^(a' }] } }
    voiceRoutes:
      - { identity: r, numberPattern: '^+1', priority: 1, onlinePstnUsages: [Local], onlinePstnGatewayList: [sbc.other.com] }
carriers: [{ id: c, name: C, numbers: [{ number: '12345', tenant: t }] }]
`);
    // The schema's problems (sip.flood, carriers) ...
    expect(found.some((p) => p.startsWith("sip.flood.threshold: "))).toBe(true);
    expect(found.some((p) => p.startsWith("carriers[0].numbers[0].number: "))).toBe(true);
    // ... and, in the same run, the checks whose parts are sound: dial plans and routing on the
    // tenants, sip.workers without redis, the gateway's transport against sip.listen, and the
    // references among the objects that passed (the one carrier failed, the rest did not).
    expect(
      found.some((p) => p.startsWith("tenants[0].dialPlans.global.normalizationRules[0].pattern: ")),
    ).toBe(true);
    expect(found.some((p) => p.startsWith("sip.workers: more than one worker needs a redis section"))).toBe(
      true,
    );
    expect(found).toContain(
      "gateways[0].transport: needs a tls entry in sip.listen (requests to this gateway leave through a tls listener)",
    );
    expect(found).toContain(
      "tenants[0].voiceRoutes[0].onlinePstnGatewayList[0]: unknown gateway 'sbc.other.com' (define it under gateways)",
    );
  });

  it("checks references among the named objects that passed, at their paths in the file", () => {
    const found = problems(`${minimal}
gateways:
  - { fqdn: broken.example.com, sipSignalingPort: 99999 }
  - { fqdn: sbc.example.com, outboundPstnNumberTranslationRules: [Nope] }
translationRules:
  - { identity: Half }
tenants:
  - { id: broken, domains: [] }
  - id: t
    domains: [example.com]
    pstnUsages: [Local]
    voiceRoutes:
      - { identity: r, numberPattern: '^\\+1', priority: 1, onlinePstnUsages: [Local], onlinePstnGatewayList: [broken.example.com, sbc.gone.com] }
carriers:
  - { id: c, name: C, numbers: [{ number: '+12025550100', tenant: broken }, { number: '+12025550101', tenant: none }] }
`);
    // The schema's own problems, at the objects that failed.
    expect(found.some((p) => p.startsWith("gateways[0].sipSignalingPort: "))).toBe(true);
    expect(found.some((p) => p.startsWith("tenants[0].domains: "))).toBe(true);
    // References of the objects that passed, with their indices in the file (not in the list of
    // objects that passed) ...
    expect(found).toEqual(
      expect.arrayContaining([
        "gateways[1].outboundPstnNumberTranslationRules[0]: unknown translation rule 'Nope' (define it under translationRules)",
        "tenants[1].voiceRoutes[0].onlinePstnGatewayList[1]: unknown gateway 'sbc.gone.com' (define it under gateways)",
        "carriers[0].numbers[1].tenant: unknown tenant 'none'",
      ]),
    );
    // ... and an object that failed the schema is not also called unknown where it is named.
    expect(found.some((p) => p.includes("'broken.example.com'"))).toBe(false);
    expect(found.some((p) => p.includes("unknown tenant 'broken'"))).toBe(false);
  });

  it("reports a YAML syntax error with its line", () => {
    const found = problems("sip: [unclosed\n");
    expect(found[0]).toMatch(/^line \d+, column \d+: /);
  });
});
