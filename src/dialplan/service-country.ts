// Service-country dial plans, derived for every country/region from libphonenumber's metadata
// (dialplan.md: the real plans are not published). Each plan is a few ordinary named rules:
//
//   <CC>-InternationalAccess  international (IDD) prefix + digits            -> +digits
//   <CC>-TrunkPrefix          national (trunk) prefix + NSN of a valid length -> +CC NSN
//   <CC>-NationalNumber       NSN of a valid length without a trunk prefix    -> +CC NSN
//                             only where that is how the country dials: NANP (10 digits) and
//                             countries without a trunk prefix.
//
// Plans are generated on first use and cached; the output depends only on the metadata, so it
// is deterministic for a given libphonenumber-js version.
import metadata from "libphonenumber-js/metadata.min.json";
import { type CompiledRule, compileRule, type NormalizationRuleSource } from "./rule.js";

/** The slice of libphonenumber's compact per-country record that the plans are built from. */
interface CountryNumbering {
  readonly callingCode: string;
  readonly internationalPrefix: string | null;
  readonly nationalPrefix: string | null;
  readonly possibleLengths: readonly number[];
}

export interface ServiceCountryPlan {
  readonly country: string;
  readonly name: string;
  readonly callingCode: string;
  readonly rules: readonly CompiledRule[];
}

type CompactCountry = readonly unknown[];
const countries = (metadata as unknown as { countries: Record<string, CompactCountry> }).countries;

// Positions in libphonenumber-js's compact country array (see its metadata generator).
const CALLING_CODE = 0;
const IDD_PREFIX = 1;
const POSSIBLE_LENGTHS = 3;
const NATIONAL_PREFIX = 5;

function readCountry(country: string): CountryNumbering | null {
  if (!Object.hasOwn(countries, country)) return null;
  const c = countries[country]!;
  const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
  const lengths = Array.isArray(c[POSSIBLE_LENGTHS])
    ? (c[POSSIBLE_LENGTHS] as unknown[]).filter((n): n is number => typeof n === "number")
    : [];
  const callingCode = str(c[CALLING_CODE]);
  if (callingCode === null) return null;
  return {
    callingCode,
    internationalPrefix: str(c[IDD_PREFIX]),
    nationalPrefix: str(c[NATIONAL_PREFIX]),
    possibleLengths: [...lengths].sort((a, b) => a - b),
  };
}

/** Every country/region code the metadata knows, sorted. */
export function serviceCountries(): string[] {
  return Object.keys(countries).sort();
}

export function countryCallingCode(country: string): string | null {
  return readCountry(country)?.callingCode ?? null;
}

export function serviceCountryPlanName(country: string): string {
  return `ServiceCountry-${country}`;
}

/**
 * Digits of one of the given lengths, written so every choice is decided by the next
 * character (an optional tail per longer length): the pattern stays on the fast engine.
 */
export function lengthsPattern(lengths: readonly number[]): string {
  const [first, ...rest] = lengths;
  if (first === undefined) return "\\d+";
  const last = rest[rest.length - 1] ?? first;
  if (last - first === rest.length) return first === last ? `\\d{${first}}` : `\\d{${first},${last}}`;
  let tail = "";
  for (let i = rest.length - 1; i >= 0; i--) {
    const step = rest[i]! - (i === 0 ? first : rest[i - 1]!);
    tail = `(?:\\d{${step}}${tail})?`;
  }
  return `\\d{${first}}${tail}`;
}

export function serviceCountryRuleSources(country: string): NormalizationRuleSource[] | null {
  const n = readCountry(country);
  if (n === null) return null;
  const nsn = lengthsPattern(n.possibleLengths);
  const sources: NormalizationRuleSource[] = [];
  if (n.internationalPrefix !== null) {
    sources.push({
      name: `${country}-InternationalAccess`,
      description: `International access prefix ${n.internationalPrefix} followed by a number`,
      pattern: `^(?:${n.internationalPrefix})(\\d+)$`,
      translation: "+$1",
      isInternalExtension: false,
    });
  }
  if (n.nationalPrefix !== null) {
    sources.push({
      name: `${country}-TrunkPrefix`,
      description: `National prefix ${n.nationalPrefix} followed by a national number of a valid length`,
      pattern: `^${n.nationalPrefix}(${nsn})$`,
      translation: `+${n.callingCode}$1`,
      isInternalExtension: false,
    });
  }
  // NANP numbers are dialled as 10 digits (and 1 + 10 digits, the trunk prefix rule above);
  // countries without a trunk prefix dial the national number as it is.
  if (n.callingCode === "1" || n.nationalPrefix === null) {
    sources.push({
      name: `${country}-NationalNumber`,
      description: "National number of a valid length",
      pattern: `^(${nsn})$`,
      translation: `+${n.callingCode}$1`,
      isInternalExtension: false,
    });
  }
  return sources;
}

const cache = new Map<string, ServiceCountryPlan | null>();

/** The service-country plan for an ISO 3166-1 alpha-2 code, or null when there is no metadata. */
export function serviceCountryPlan(country: string): ServiceCountryPlan | null {
  const hit = cache.get(country);
  if (hit !== undefined) return hit;
  const sources = serviceCountryRuleSources(country);
  const n = readCountry(country);
  let plan: ServiceCountryPlan | null = null;
  if (sources !== null && n !== null) {
    const name = serviceCountryPlanName(country);
    const rules: CompiledRule[] = [];
    for (const s of sources) {
      const r = compileRule(s, name);
      // Metadata patterns are plain regexes; one that does not compile is left out rather
      // than taking the whole country down (covered by a test over every country).
      if (r.ok) rules.push(r.value);
    }
    plan = { country, name, callingCode: n.callingCode, rules };
  }
  cache.set(country, plan);
  return plan;
}
