import { describe, expect, it } from "vitest";
import type { EffectiveDialPlan } from "../../src/dialplan/index.js";
import { normalizeCleaned, serviceCountries, serviceCountryPlan } from "../../src/dialplan/index.js";
import { lengthsPattern, serviceCountryRuleSources } from "../../src/dialplan/service-country.js";

function planFor(country: string): EffectiveDialPlan {
  const s = serviceCountryPlan(country);
  if (s === null) throw new Error(`no plan for ${country}`);
  return {
    name: "Service Country",
    tenantId: "t",
    tenantDialPlan: null,
    serviceCountry: country,
    serviceCountryPlan: s.name,
    countryCallingCode: s.callingCode,
    externalAccessPrefix: null,
    rules: s.rules,
  };
}

describe("service-country plans from libphonenumber metadata", () => {
  it("exists for every country/region and every generated rule compiles", () => {
    const all = serviceCountries();
    expect(all.length).toBeGreaterThan(240);
    for (const c of all) {
      const plan = serviceCountryPlan(c);
      expect(plan, c).not.toBeNull();
      expect(plan!.rules.length, c).toBe(serviceCountryRuleSources(c)!.length);
      expect(plan!.rules.length, c).toBeGreaterThan(0);
    }
  });

  it("is deterministic and cached", () => {
    expect(serviceCountryRuleSources("GB")).toEqual(serviceCountryRuleSources("GB"));
    expect(serviceCountryPlan("GB")).toBe(serviceCountryPlan("GB"));
  });

  it.each([
    ["US", "011442079460000", "+442079460000", "US-InternationalAccess"],
    ["US", "14255550100", "+14255550100", "US-TrunkPrefix"],
    ["US", "4255550100", "+14255550100", "US-NationalNumber"],
    ["CA", "6135550100", "+16135550100", "CA-NationalNumber"],
    ["GB", "00442079460000", "+442079460000", "GB-InternationalAccess"],
    ["GB", "02079460000", "+442079460000", "GB-TrunkPrefix"],
    ["DE", "030123456", "+4930123456", "DE-TrunkPrefix"],
    ["FR", "0123456789", "+33123456789", "FR-TrunkPrefix"],
    ["IT", "0612345678", "+390612345678", "IT-NationalNumber"],
    ["AU", "0011441234567", "+441234567", "AU-InternationalAccess"],
    ["RU", "84951234567", "+74951234567", "RU-TrunkPrefix"],
  ])("%s: %s -> %s by %s", (country, dialled, expected, rule) => {
    const r = normalizeCleaned(planFor(country), dialled);
    expect(r.translatedNumber).toBe(expected);
    expect(r.matchingRule?.name).toBe(rule);
    expect(r.matchingRule?.plan).toBe(`ServiceCountry-${country}`);
  });

  it("refuses a national number of an invalid length after the trunk prefix (it falls back)", () => {
    const r = normalizeCleaned(planFor("FR"), "012345");
    expect(r.matchingRule).toBeNull();
    expect(r.translatedNumber).toBe("+33012345");
    expect(r.fallbackApplied).toBe(true);
  });

  it("writes valid lengths so the fast engine runs them", () => {
    expect(lengthsPattern([10])).toBe("\\d{10}");
    expect(lengthsPattern([4, 5, 6])).toBe("\\d{4,6}");
    expect(lengthsPattern([7, 9, 10])).toBe("\\d{7}(?:\\d{2}(?:\\d{1})?)?");
    const engines = serviceCountries().flatMap((c) =>
      serviceCountryPlan(c)!.rules.map((r) => r.compiled.engine),
    );
    expect(engines.filter((e) => e === "linear").length).toBeLessThan(engines.length / 10);
  });
});
