// The dialplan commands, run as the built binary (npm test builds first; see package.json).
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "dist/src/cli/main.js");
const fixture = join(root, "test/dialplan/fixtures/dialplan-cli.yaml");

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function test(user: string, number: string) {
  const r = run("dialplan", "test", "--config", fixture, "--user", user, "--number", number, "--json");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

describe("dialgate dialplan test", () => {
  it("prints one JSON object with the documented fields", () => {
    const out = test("alice@contoso.com", "50100");
    expect(out).toEqual({
      translatedNumber: "+14255550100",
      matchingRule: {
        name: "5digitExtension",
        pattern: "^5(\\d{4})$",
        translation: "+1425555$1",
        isInternalExtension: false,
        plan: "Redmond",
      },
      effectiveTenantDialPlanName: "Tenant User - Service Country",
      passes: [expect.objectContaining({ input: "50100", translatedNumber: "+14255550100" })],
      fallbackApplied: false,
      externalAccessPrefixStripped: false,
    });
  });

  it("strips the external access prefix, applies the global plan, falls back and bypasses +", () => {
    expect(test("alice@contoso.com", "95550100")).toMatchObject({
      translatedNumber: "+14255550100",
      externalAccessPrefixStripped: true,
    });
    expect(test("bob@contoso.com", "0100")).toMatchObject({
      translatedNumber: "+14255550100",
      effectiveTenantDialPlanName: "Tenant Global - Service Country",
      matchingRule: { name: "4digitExtension", isInternalExtension: true, plan: "Global" },
    });
    expect(test("gwen@contoso.com", "020 7946 0000")).toMatchObject({
      translatedNumber: "+442079460000",
      matchingRule: { name: "GB-TrunkPrefix", plan: "ServiceCountry-GB" },
    });
    expect(test("alice@contoso.com", "123")).toMatchObject({
      translatedNumber: "+1123",
      fallbackApplied: true,
    });
    expect(test("alice@contoso.com", "+44 20 7946 0000")).toMatchObject({
      translatedNumber: "+442079460000",
      matchingRule: null,
    });
  });

  it("prints a readable result without --json", () => {
    const r = run(
      "dialplan",
      "test",
      "--config",
      fixture,
      "--user",
      "alice@contoso.com",
      "--number",
      "50100",
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("+14255550100");
    expect(r.stdout).toContain("5digitExtension");
  });

  it("exits 2 with a clear message for an unknown user, bad input or an invalid configuration", () => {
    const unknown = run(
      "dialplan",
      "test",
      "--config",
      fixture,
      "--user",
      "eve@contoso.com",
      "--number",
      "1",
      "--json",
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toContain("unknown user 'eve@contoso.com'");

    const bad = run(
      "dialplan",
      "test",
      "--config",
      fixture,
      "--user",
      "alice@contoso.com",
      "--number",
      "12ab",
      "--json",
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("'12ab'");

    const long = run(
      "dialplan",
      "test",
      "--config",
      fixture,
      "--user",
      "alice@contoso.com",
      "--number",
      "1".repeat(65),
    );
    expect(long.code).toBe(2);
    expect(long.stderr).toContain("at most 64");

    const dir = mkdtempSync(join(tmpdir(), "dialgate-cli-"));
    const invalid = join(dir, "invalid.yaml");
    writeFileSync(
      invalid,
      `sip: { listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }], recordRouteHost: 127.0.0.1 }
tenants:
  - id: t
    domains: [t.example]
    dialPlans: { global: { normalizationRules: [{ name: r, pattern: '^(?(1)a|b)$' }] } }
    users: [{ id: a@t.example, usageLocation: US }]
`,
    );
    const broken = run(
      "dialplan",
      "test",
      "--config",
      invalid,
      "--user",
      "a@t.example",
      "--number",
      "1",
      "--json",
    );
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain("tenants[0].dialPlans.global.normalizationRules[0].pattern");
    expect(broken.stderr).toContain("conditional");
  });
});

describe("dialgate dialplan effective", () => {
  it("lists the tenant rules, then the service-country rules, in evaluation order", () => {
    const r = run("dialplan", "effective", "--config", fixture, "--user", "alice@contoso.com", "--json");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.effectiveTenantDialPlanName).toBe("Tenant User - Service Country");
    expect(out.normalizationRules.map((x: { name: string }) => x.name)).toEqual([
      "5digitExtension",
      "7digitcallingRedmond",
      "US-InternationalAccess",
      "US-TrunkPrefix",
      "US-NationalNumber",
    ]);
    expect(out.externalAccessPrefix).toBe("9");
  });

  it("prints a readable plan without --json and exits 2 for an unknown user", () => {
    const r = run("dialplan", "effective", "--config", fixture, "--user", "bob@contoso.com");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Tenant Global - Service Country");
    expect(r.stdout).toMatch(/1\. 4digitExtension/);
    const unknown = run("dialplan", "effective", "--config", fixture, "--user", "nobody@contoso.com");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown user");
  });
});
