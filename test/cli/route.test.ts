// `dialgate route test`, run as the built binary (npm test builds first; see package.json).
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "dist/src/cli/main.js");
const dir = mkdtempSync(join(tmpdir(), "dialgate-route-cli-"));

const config = join(dir, "route.yaml");
writeFileSync(
  config,
  `
sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }]
  recordRouteHost: 127.0.0.1
gateways:
  - { fqdn: sbc1.contoso.com, address: 127.0.0.1, sipSignalingPort: 5090, enabled: true }
  - { fqdn: sbc2.contoso.com, address: 127.0.0.1, sipSignalingPort: 5092, enabled: true,
      failoverResponseCodes: [503], failoverTimeSeconds: 3, outboundPstnNumberTranslationRules: [StripPlus] }
  - { fqdn: sbc3.contoso.com, address: 127.0.0.1, sipSignalingPort: 5094, enabled: true }
  - { fqdn: sbc4.contoso.com, address: 127.0.0.1, sipSignalingPort: 5096, enabled: false }
translationRules:
  - { identity: StripPlus, pattern: '^\\+(\\d+)$', translation: '$1' }
tenants:
  - id: contoso
    domains: [contoso.com]
    dialPlans:
      global:
        normalizationRules:
          - { name: 4digit, pattern: '^(\\d{4})$', translation: '+1425555$1' }
    pstnUsages: [US, Intl, Emergency]
    voiceRoutes:
      - { identity: Local, numberPattern: '^\\+1425', priority: 1, onlinePstnUsages: [US],
          onlinePstnGatewayList: [sbc1.contoso.com, sbc2.contoso.com, sbc4.contoso.com] }
      - { identity: Backup, numberPattern: '^\\+1', priority: 5, onlinePstnUsages: [US],
          onlinePstnGatewayList: [sbc3.contoso.com, sbc1.contoso.com] }
      - { identity: E911, numberPattern: '^911$', priority: 1, onlinePstnUsages: [Emergency],
          onlinePstnGatewayList: [sbc3.contoso.com] }
    voiceRoutingPolicies:
      - { identity: Global, onlinePstnUsages: [US] }
    emergencyCallRoutingPolicies:
      - identity: Global
        emergencyNumbers: [{ emergencyDialString: '911', emergencyDialMask: '112', onlinePstnUsage: Emergency }]
    users:
      - { id: alice@contoso.com, lineUri: '+14255550100', usageLocation: US }
      - { id: bob@contoso.com, lineUri: '+14255550101', usageLocation: US, contact: 'sip:bob@127.0.0.1:5070' }
`,
);
const broken = join(dir, "broken.yaml");
writeFileSync(
  broken,
  `
sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }]
  recordRouteHost: 127.0.0.1
tenants:
  - id: t
    domains: [example.com]
    pstnUsages: [u]
    voiceRoutes: [{ identity: r, numberPattern: '^(\\d+', priority: 1, onlinePstnUsages: [u] }]
`,
);

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, "route", "test", ...args], { cwd: root, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(user: string, number: string, seed = "7") {
  const r = run("--config", config, "--user", user, "--number", number, "--seed", seed, "--json");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

describe("dialgate route test", () => {
  it("prints the normalized number and the ordered attempts (usage, route, gateway, Request-URI)", () => {
    const out = json("alice@contoso.com", "0199");
    expect(out.normalization.translatedNumber).toBe("+14255550199");
    expect(out.outcome).toBe("gateways");
    expect(out.usage).toBe("US");
    const attempts = out.attempts.map((a: { route: string; gateway: string }) => `${a.route} ${a.gateway}`);
    expect(attempts.slice(0, 2).sort()).toEqual(["Local sbc1.contoso.com", "Local sbc2.contoso.com"]);
    expect(attempts[2]).toBe("Backup sbc3.contoso.com");
    expect(attempts).toHaveLength(3);
    const sbc2 = out.attempts.find((a: { gateway: string }) => a.gateway === "sbc2.contoso.com");
    expect(sbc2).toMatchObject({
      usage: "US",
      requestUri: "sip:14255550199@sbc2.contoso.com:5092;user=phone",
      destination: "127.0.0.1:5092;transport=udp",
      translationRule: "StripPlus",
      failoverResponseCodes: [503],
      failoverTimeSeconds: 3,
    });
    expect(out.skipped).toEqual([
      { route: "Local", gateway: "sbc4.contoso.com", why: "disabled" },
      { route: "Backup", gateway: "sbc1.contoso.com", why: "duplicate" },
    ]);
  });

  it("gives the same order for the same seed and covers both orders over seeds", () => {
    const first = (seed: string) => json("alice@contoso.com", "0199", seed).attempts[0].gateway;
    expect(first("7")).toBe(first("7"));
    const seen = new Set(["1", "2", "3", "4", "5", "6", "7", "8"].map(first));
    expect(seen).toEqual(new Set(["sbc1.contoso.com", "sbc2.contoso.com"]));
  });

  it("shows emergency routing, internal calls and rejections", () => {
    expect(json("alice@contoso.com", "112")).toMatchObject({
      outcome: "gateways",
      callType: "dr_emergency_out",
      emergency: { dialString: "911", usage: "Emergency" },
      attempts: [{ requestUri: "sip:911@sbc3.contoso.com:5094;user=phone" }],
    });
    expect(json("alice@contoso.com", "0101")).toMatchObject({
      outcome: "internal",
      callee: { user: "bob@contoso.com", contact: "sip:bob@127.0.0.1:5070" },
    });
    expect(json("alice@contoso.com", "+442071234567")).toMatchObject({
      outcome: "rejected",
      rejection: { status: 404, reason: "No Route Found" },
    });
  });

  it("prints a readable plan without --json", () => {
    const r = run("--config", config, "--user", "alice@contoso.com", "--number", "0199", "--seed", "7");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Normalized number: +14255550199");
    expect(r.stdout).toMatch(/1\. route Local, gateway sbc[12]\.contoso\.com: sip:/);
    expect(r.stdout).toContain("skipped: gateway sbc4.contoso.com of route Local (disabled)");
  });

  it("exits 2 for an unknown user, an undiallable number, a bad seed or an invalid configuration", () => {
    const cases = [
      run("--config", config, "--user", "nobody@contoso.com", "--number", "0199"),
      run("--config", config, "--user", "alice@contoso.com", "--number", "call-me"),
      run("--config", config, "--user", "alice@contoso.com", "--number", "0199", "--seed", "x"),
      run("--config", broken, "--user", "alice@contoso.com", "--number", "0199"),
      run("--config", config, "--number", "0199"),
    ];
    for (const r of cases) {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^dialgate route test: /);
    }
    expect(cases[3]?.stderr).toContain("tenants[0].voiceRoutes[0].numberPattern");
  });
});
