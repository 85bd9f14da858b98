import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/config/load.js";

const base = {
  sip: { listen: [{ transport: "udp", host: "127.0.0.1", port: 5060 }], recordRouteHost: "127.0.0.1" },
};

function problems(tenant: Record<string, unknown>): string[] {
  const r = validateConfig({ ...base, tenants: [{ id: "contoso", domains: ["contoso.com"], ...tenant }] });
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
}

const rules = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ name: `r${i}`, pattern: `^${i}$`, translation: "+1" }));

describe("dial plan validation on load", () => {
  it("reports a bad pattern with its path, naming tenant, plan, rule, value and what is allowed", () => {
    const found = problems({
      dialPlans: {
        plans: [
          { identity: "A", normalizationRules: [] },
          { identity: "B", normalizationRules: [] },
          {
            identity: "Redmond",
            normalizationRules: [...rules(4), { name: "bad", pattern: "^[a-z-[aeiou]]$", translation: "+1" }],
          },
        ],
      },
    });
    expect(found).toHaveLength(1);
    const p = found[0]!;
    expect(p.startsWith("tenants[0].dialPlans.plans[2].normalizationRules[4].pattern: ")).toBe(true);
    expect(p).toContain("tenant 'contoso'");
    expect(p).toContain("dial plan 'Redmond'");
    expect(p).toContain("rule 'bad'");
    expect(p).toContain("^[a-z-[aeiou]]$");
    expect(p).toContain("class subtraction");
  });

  it("allows 50 rules per plan and refuses 51", () => {
    expect(problems({ dialPlans: { global: { normalizationRules: rules(50) } } })).toEqual([]);
    const found = problems({ dialPlans: { global: { normalizationRules: rules(51) } } });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /^tenants\[0\]\.dialPlans\.global\.normalizationRules: .*51 normalization rules; at most 50/,
    );
  });

  it("allows 1,000 tenant dial plans and refuses 1,001", () => {
    const plans = (n: number) => Array.from({ length: n }, (_, i) => ({ identity: `p${i}` }));
    expect(problems({ dialPlans: { plans: plans(1000) } })).toEqual([]);
    const found = problems({ dialPlans: { plans: plans(1001) } });
    expect(found).toEqual([
      expect.stringMatching(/^tenants\[0\]\.dialPlans\.plans: .*1001 tenant dial plans; at most 1000/),
    ]);
  });

  it("checks identity and simple name characters, length and the leading dot", () => {
    const found = problems({
      dialPlans: {
        plans: [
          { identity: "ok-1.x" },
          { identity: ".hidden" },
          { identity: "a".repeat(50) },
          { identity: "has space" },
          { identity: "Paren", simpleName: "Paren(1)" },
          { identity: "Paren2", simpleName: "Bad!" },
          { identity: "Paren3", simpleName: "" },
          { identity: "Zürich" },
        ],
      },
    });
    expect(found.map((p) => p.split(":")[0])).toEqual([
      "tenants[0].dialPlans.plans[1].identity",
      "tenants[0].dialPlans.plans[1].simpleName",
      "tenants[0].dialPlans.plans[2].identity",
      "tenants[0].dialPlans.plans[2].simpleName",
      "tenants[0].dialPlans.plans[3].identity",
      "tenants[0].dialPlans.plans[3].simpleName",
      "tenants[0].dialPlans.plans[5].simpleName",
      "tenants[0].dialPlans.plans[6].simpleName",
    ]);
    expect(found[0]).toContain("letters, digits, '-' and '.'");
  });

  it("requires simple names (defaulting to the identity) to be unique within the tenant", () => {
    const found = problems({
      dialPlans: {
        plans: [
          { identity: "A", simpleName: "Site" },
          { identity: "B", simpleName: "site" },
          { identity: "Site" },
        ],
      },
    });
    expect(found).toEqual([
      expect.stringMatching(
        /^tenants\[0\]\.dialPlans\.plans\[1\]\.simpleName: .*duplicate simpleName 'site'/,
      ),
      expect.stringMatching(
        /^tenants\[0\]\.dialPlans\.plans\[2\]\.simpleName: .*duplicate simpleName 'Site'/,
      ),
    ]);
  });

  it("limits descriptions to 1,040 characters for plans and 512 for rules", () => {
    expect(
      problems({
        dialPlans: {
          global: {
            description: "d".repeat(1040),
            normalizationRules: [{ name: "r", description: "d".repeat(512) }],
          },
        },
      }),
    ).toEqual([]);
    const found = problems({
      dialPlans: {
        global: {
          description: "d".repeat(1041),
          normalizationRules: [{ name: "r", description: "d".repeat(513) }],
        },
      },
    });
    expect(found.map((p) => p.split(":")[0])).toEqual([
      "tenants[0].dialPlans.global.description",
      "tenants[0].dialPlans.global.normalizationRules[0].description",
    ]);
  });

  it("accepts external access prefixes of 1-4 characters of 0-9 * # only", () => {
    for (const ok of ["9", "*9#", "0000"])
      expect(problems({ dialPlans: { global: { externalAccessPrefix: ok } } })).toEqual([]);
    for (const bad of ["", "12345", "9a", "+"]) {
      expect(problems({ dialPlans: { global: { externalAccessPrefix: bad } } })).toEqual([
        expect.stringMatching(
          /^tenants\[0\]\.dialPlans\.global\.externalAccessPrefix: .*1-4 characters of 0-9, '\*' and '#'/,
        ),
      ]);
    }
  });

  it("refuses duplicate rule names in a plan and a usage location without a service-country plan", () => {
    const found = problems({
      dialPlans: { global: { normalizationRules: [{ name: "x" }, { name: "X" }] } },
      users: [{ id: "a@contoso.com", usageLocation: "ZZ" }],
    });
    expect(found.map((p) => p.split(":")[0])).toEqual([
      "tenants[0].dialPlans.global.normalizationRules[1].name",
      "tenants[0].users[0].usageLocation",
    ]);
  });

  it("refuses a catastrophic pattern that the linear-time engine cannot run", () => {
    const found = problems({
      dialPlans: {
        global: { normalizationRules: [{ name: "evil", pattern: "^(\\d+)+\\1$", translation: "+$1" }] },
      },
    });
    expect(found).toEqual([
      expect.stringMatching(/normalizationRules\[0\]\.pattern: .*backtrack catastrophically/),
    ]);
  });
});
