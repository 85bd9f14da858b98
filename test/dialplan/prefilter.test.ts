// The length and first-character prefilter in front of the regex engine (regex/prefilter.ts).
// It may only skip a rule that could not have matched: the tests pin the cases it skips, the
// cases it must let through, and check on random inputs that it never hides a match.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileDotnetRegex } from "../../src/dialplan/regex/compile.js";
import { engineWith, normalizeAs } from "./support.js";

function compiled(pattern: string) {
  const r = compileDotnetRegex(pattern);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** The prefilter's answer, after checking it against the engine: a real match is never skipped. */
function mayMatch(pattern: string, input: string): boolean {
  const re = compiled(pattern);
  const answer = re.mayMatch(input);
  if (re.exec(input) !== null) expect(answer).toBe(true);
  return answer;
}

describe("the length filter skips", () => {
  it.each([
    ["^(\\d{10})$", "12345"],
    ["^(\\d{10})$", "12345678901"],
    ["\\A\\d{3}\\z", "1234"],
    ["^5(\\d{4})$", "5123"],
    ["^(?:1|234)$", "1234"],
    ["^(\\d{3})(\\d{4})?$", "12"],
    ["^(\\d{3})(\\d{4})?$", "12345678"],
    ["^(?:(\\d{3})$|(\\d{5})$)", "123456"],
  ])("%s for %s (a length no match can have)", (pattern, input) => {
    expect(mayMatch(pattern, input)).toBe(false);
  });

  it("applies the minimum length to unanchored patterns too", () => {
    expect(mayMatch("(\\d{4})", "123")).toBe(false);
    expect(mayMatch("(999)$", "99")).toBe(false);
  });

  it("skips an input with a final newline under \\z, where .NET would not match either", () => {
    expect(mayMatch("^\\d{3}\\z", "123\n")).toBe(false);
  });
});

describe("the length filter does not skip", () => {
  it.each([
    // Unanchored at one end or both: the match can be shorter than the input.
    ["(\\d{4})$", "123456"],
    ["^(\\d{4})", "123456"],
    ["(\\d{4})", "99123456"],
    // Alternations whose branches differ in length.
    ["^(?:1|234)$", "1"],
    ["^(?:1|234)$", "234"],
    ["^(1|23|456)$", "23"],
    // Optional parts.
    ["^0?(999)$", "999"],
    ["^0?(999)$", "0999"],
    ["^(\\d{3})(\\d{4})?$", "123"],
    ["^(\\d{3})(\\d{4})?$", "1234567"],
    // `$` that is not the pattern's end: the match goes on after it.
    ["^1$\\n", "1\n"],
    ["^(?:1$|2)3?", "1"],
    ["^(?:1$|2)3?", "23"],
    // .NET `$` also matches before a final \n: one character more than the match.
    ["^(\\d{3})$", "123\n"],
    ["^(\\d{3})\\Z", "123\n"],
    // Case-insensitive patterns, on both engines.
    ["(?i)^ab(c)$", "ABC"],
    ["(?i)^(?:a|a)+$", "AAAA"],
    // Unbounded quantifiers.
    ["^(\\d+)$", "1".repeat(64)],
    ["^\\d{3,}$", "1234567890"],
    ["^(\\d+)+$", "1".repeat(64)],
    ["^\\*(\\d*)#$", "*#"],
    // Back references and lookarounds: zero-width parts, text of any length.
    ["^(\\d)\\1$", "11"],
    ["^(?=\\d{3})\\d{3}$", "123"],
  ])("%s for %j", (pattern, input) => {
    expect(mayMatch(pattern, input)).toBe(true);
    expect(compiled(pattern).exec(input)).not.toBeNull();
  });

  it("counts a surrogate pair as one character on the linear engine, as RE2 matches it", () => {
    // An ambiguous alternation forces RE2, which reads code points: `.` takes both halves.
    const pattern = "^(?:.|.)$";
    expect(compiled(pattern).engine).toBe("linear");
    expect(mayMatch(pattern, "\u{1F600}")).toBe(true);
  });
});

describe("the filter never hides a match", () => {
  const patterns = [
    "^(\\d{4})$",
    "^(\\d{3})(\\d{4})?$",
    "^(?:1|234)$",
    "(\\d{2})$",
    "^\\d{2,5}\\Z",
    "^1$\\n?",
    "(?i)^a\\d?$",
    "^(\\d+)+$",
    "^(?:1|12)*3?$",
    "^(?:.|.)$",
    "\\A[*#]?\\d{2}\\z",
    "^(?:(\\d{3})$|(\\d{5})$)",
  ];

  it("lets every input through that the engine matches", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("1", "2", "3", "*", "#", "a", "A", "\n", "\u{1F600}"), { maxLength: 8 }),
        fc.constantFrom(...patterns),
        (chars, pattern) => {
          mayMatch(pattern, chars.join(""));
        },
      ),
      { numRuns: 2000, seed: 20261123 },
    );
  });
});

describe("a plan the length filter mostly skips", () => {
  it("still picks the first rule that matches, in list order", () => {
    const rules = Array.from({ length: 10 }, (_, i) => ({
      name: `len${6 + i}`,
      pattern: `^(\\d{${6 + i}})$`,
      translation: `+${6 + i}$1`,
    }));
    rules.push({ name: "any", pattern: "(\\d{3})$", translation: "+9$1" });
    rules.push({ name: "five", pattern: "^(\\d{5})$", translation: "+5$1" });
    const engine = engineWith({
      dialPlans: { global: { normalizationRules: rules } },
      users: [{ id: "u@contoso.com", usageLocation: "US" }],
    });
    expect(normalizeAs(engine, "u@contoso.com", "1234567").translatedNumber).toBe("+71234567");
    expect(normalizeAs(engine, "u@contoso.com", "81234").matchingRule?.name).toBe("any");
    expect(normalizeAs(engine, "u@contoso.com", "81234").translatedNumber).toBe("+9234");
  });
});
