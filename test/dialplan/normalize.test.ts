import { describe, expect, it } from "vitest";
import { engineWith, normalizeAs } from "./support.js";

const redmondRules = [
  { name: "4digitExtension", pattern: "^(\\d{4})$", translation: "+1425555$1" },
  { name: "5digitExtension", pattern: "^5(\\d{4})$", translation: "+1425555$1" },
  { name: "7digitcallingRedmond", pattern: "^(\\d{7})$", translation: "+1425$1" },
  { name: "RedmondOperator", pattern: "^0$", translation: "+14255550100" },
  { name: "RedmondSitePrefix", pattern: "^6222(\\d{4})$", translation: "+1425555$1" },
  { name: "5digitRange", pattern: "^([3-7]\\d{4})$", translation: "+142555$1" },
];

describe("the documented Redmond examples", () => {
  // Each rule alone in the global plan, so the table row tests that rule.
  it.each([
    [0, "0100", "+14255550100"],
    [1, "50100", "+14255550100"],
    [2, "5550100", "+14255550100"],
    [3, "0", "+14255550100"],
    [4, "62220100", "+14255550100"],
    [5, "54567", "+14255554567"],
  ])("rule %i: %s -> %s", (i, dialled, expected) => {
    const rule = redmondRules[i]!;
    const engine = engineWith({
      dialPlans: { global: { normalizationRules: [rule] } },
      users: [{ id: "a@contoso.com", usageLocation: "US" }],
    });
    const r = normalizeAs(engine, "a@contoso.com", dialled);
    expect(r.translatedNumber).toBe(expected);
    expect(r.matchingRule).toEqual({ ...rule, isInternalExtension: false, plan: "Global" });
    expect(r.effectiveTenantDialPlanName).toBe("Tenant Global - Service Country");
  });
});

describe("ordering and scopes", () => {
  const engine = engineWith({
    dialPlans: {
      global: { normalizationRules: redmondRules },
      plans: [
        {
          identity: "Redmond",
          externalAccessPrefix: "9",
          optimizeDeviceDialing: true,
          normalizationRules: [{ name: "fiveFirst", pattern: "^([3-7]\\d{4})$", translation: "+142555$1" }],
        },
        { identity: "Empty", normalizationRules: [] },
        {
          identity: "NoOptimize",
          externalAccessPrefix: "9",
          normalizationRules: [{ name: "x", pattern: "^(\\d{4})$", translation: "+4420$1" }],
        },
      ],
    },
    users: [
      { id: "global@contoso.com", usageLocation: "US" },
      { id: "scoped@contoso.com", usageLocation: "US", tenantDialPlan: "Redmond" },
      { id: "empty@contoso.com", usageLocation: "GB", tenantDialPlan: "Empty" },
      { id: "nooptimize@contoso.com", usageLocation: "US", tenantDialPlan: "NoOptimize" },
    ],
  });

  it("takes the first matching rule in list order", () => {
    // 54567 matches 5digitExtension (earlier) and 5digitRange (later): the earlier wins.
    const r = normalizeAs(engine, "global@contoso.com", "54567");
    expect(r.matchingRule?.name).toBe("5digitExtension");
    expect(r.translatedNumber).toBe("+14255554567");
  });

  it("replaces the global plan with the user-scoped plan; they never stack", () => {
    const r = normalizeAs(engine, "scoped@contoso.com", "0100");
    // 4digitExtension lives in the global plan only: the service-country rules do not match
    // four digits either, so the +CC fallback applies.
    expect(r.matchingRule).toBeNull();
    expect(r.translatedNumber).toBe("+10100");
    expect(r.fallbackApplied).toBe(true);
    expect(r.effectiveTenantDialPlanName).toBe("Tenant User - Service Country");
  });

  it("puts tenant rules before service-country rules", () => {
    const r = normalizeAs(engine, "global@contoso.com", "4255550100");
    expect(r.matchingRule?.plan).toBe("ServiceCountry-US");
    const t = normalizeAs(engine, "global@contoso.com", "5550100");
    expect(t.matchingRule?.plan).toBe("Global");
  });

  it("uses a user-scoped plan with no rules, and then only the service-country plan applies", () => {
    const r = normalizeAs(engine, "empty@contoso.com", "02079460000");
    expect(r.effectiveTenantDialPlanName).toBe("Tenant User - Service Country");
    expect(r.translatedNumber).toBe("+442079460000");
    expect(r.matchingRule?.name).toBe("GB-TrunkPrefix");
  });

  it("is the plain service-country plan without tenant rules", () => {
    const plain = engineWith({ users: [{ id: "p@contoso.com", usageLocation: "DE" }] });
    const r = normalizeAs(plain, "p@contoso.com", "030123456");
    expect(r.effectiveTenantDialPlanName).toBe("Service Country");
    expect(r.translatedNumber).toBe("+4930123456");
    // A global plan without rules does not count.
    const emptyGlobal = engineWith({
      dialPlans: { global: { normalizationRules: [] } },
      users: [{ id: "p@contoso.com", usageLocation: "DE" }],
    });
    expect(normalizeAs(emptyGlobal, "p@contoso.com", "1").effectiveTenantDialPlanName).toBe(
      "Service Country",
    );
  });

  it("returns a number starting with + unchanged, with no rule and no pass", () => {
    const r = normalizeAs(engine, "global@contoso.com", "+44 20 7946 0000");
    expect(r).toEqual({
      translatedNumber: "+442079460000",
      matchingRule: null,
      effectiveTenantDialPlanName: "Tenant Global - Service Country",
      passes: [],
      fallbackApplied: false,
      externalAccessPrefixStripped: false,
    });
  });

  it("strips the external access prefix when optimizeDeviceDialing is on and never requires it", () => {
    const r = normalizeAs(engine, "scoped@contoso.com", "954567");
    expect(r.externalAccessPrefixStripped).toBe(true);
    expect(r.translatedNumber).toBe("+14255554567");
    const without = normalizeAs(engine, "scoped@contoso.com", "54567");
    expect(without.externalAccessPrefixStripped).toBe(false);
    expect(without.translatedNumber).toBe("+14255554567");
    // Not longer than the prefix: nothing is stripped.
    expect(normalizeAs(engine, "scoped@contoso.com", "9").externalAccessPrefixStripped).toBe(false);
  });

  it("ignores the prefix when optimizeDeviceDialing is off", () => {
    const r = normalizeAs(engine, "nooptimize@contoso.com", "91234");
    expect(r.externalAccessPrefixStripped).toBe(false);
    expect(r.translatedNumber).toBe("+191234");
  });

  it("falls back to +CC for digit strings only; feature codes stay as dialled", () => {
    const r = normalizeAs(engine, "global@contoso.com", "12");
    expect(r.fallbackApplied).toBe(true);
    expect(r.translatedNumber).toBe("+112");
    const star = normalizeAs(engine, "global@contoso.com", "*67");
    expect(star.fallbackApplied).toBe(false);
    expect(star.translatedNumber).toBe("*67");
  });

  it("keeps an ;ext= suffix next to the translated number", () => {
    const r = normalizeAs(engine, "global@contoso.com", "5550101;ext=0101");
    expect(r.translatedNumber).toBe("+14255550101;ext=0101");
  });
});

describe("re-normalization", () => {
  const engine = engineWith({
    dialPlans: {
      global: {
        normalizationRules: [
          { name: "siteCode", pattern: "^8(\\d{3})$", translation: "6222$1" },
          { name: "site", pattern: "^6222(\\d{3})$", translation: "+1425555$1" },
          { name: "toFeature", pattern: "^77$", translation: "*77" },
          { name: "loop", pattern: "^44$", translation: "44" },
        ],
      },
    },
    users: [{ id: "a@contoso.com", usageLocation: "US" }],
  });

  it("normalizes a result without + once more and reports the last rule that matched", () => {
    const r = normalizeAs(engine, "a@contoso.com", "8123");
    expect(r.translatedNumber).toBe("+1425555123");
    expect(r.matchingRule?.name).toBe("site");
    expect(r.passes.map((p) => [p.input, p.translatedNumber, p.matchingRule?.name])).toEqual([
      ["8123", "6222123", "siteCode"],
      ["6222123", "+1425555123", "site"],
    ]);
  });

  it("stops after the second pass even without +, and keeps the first rule when the second finds none", () => {
    const r = normalizeAs(engine, "a@contoso.com", "77");
    expect(r.translatedNumber).toBe("*77");
    expect(r.matchingRule?.name).toBe("toFeature");
    expect(r.passes).toHaveLength(2);
    expect(r.passes[1]?.matchingRule).toBeNull();
    expect(r.fallbackApplied).toBe(false);
    const same = normalizeAs(engine, "a@contoso.com", "44");
    expect(same.translatedNumber).toBe("44");
    expect(same.passes).toHaveLength(2);
  });
});

describe("input errors are values", () => {
  const engine = engineWith({ users: [{ id: "a@contoso.com", usageLocation: "US" }] });

  it("reports an unknown user", () => {
    const r = engine.normalizeForUser("nobody@contoso.com", "1");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe("unknown_user");
  });

  it("reports bad input", () => {
    const r = engine.normalizeForUser("A@Contoso.com", "12a");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe("input_invalid_character");
  });
});
