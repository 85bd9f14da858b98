// No catastrophic backtracking reaches the hot path (dialplan.md, "The regex dialect"). The
// tests assert the *classification* (which engine runs a pattern, or that it is refused) and
// that adversarial inputs get the right answer; timings live in bench/dialplan.ts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileNumberPattern, compileTranslationRule } from "../../src/dialplan/index.js";
import { compileDotnetRegex } from "../../src/dialplan/regex/compile.js";

function engineOf(pattern: string): string {
  const r = compileDotnetRegex(pattern);
  if (!r.ok) return `refused:${r.error.code}`;
  return r.value.engine;
}

describe("load-time classification", () => {
  it.each([
    "^(\\d+)+$",
    "^(\\d|\\d)*$",
    "^(\\d*)*x$",
    "^(\\d+)*$",
    "^(?:\\d{1,5}){1,20}$",
    "^(\\d*)(\\d*)$",
    "^(1|12)*3$",
    "^(\\d?){20}\\d{20}$",
    "(\\d+\\d+)+x",
    "^(?:0|\\d)+$",
    "^9?(\\d{10})$",
  ])("%s runs on the linear-time engine", (pattern) => {
    expect(engineOf(pattern)).toBe("linear");
  });

  it.each([
    "^(\\d{4})$",
    "^5(\\d{4})$",
    "^(\\d{7})$",
    "^0$",
    "^6222(\\d{4})$",
    "^([3-7]\\d{4})$",
    "^0?(999)$",
    "^(\\d{11})$",
    "^\\+(\\d+)$",
    "^\\+1(425|206)(\\d{7})$",
    "^(?:011)(\\d+)$",
    "^(\\d+)$",
    "^\\*(\\d{2})#$",
  ])("%s stays on V8's RegExp", (pattern) => {
    expect(engineOf(pattern)).toBe("native");
  });

  it.each([
    ["^(\\d+)+\\1$", "\\1"],
    ["^(?=(\\d+)+x)", "(?="],
    ["^(?:\\d|\\d)*(?!5)$", "(?!"],
    ["^(?>\\d+|\\d)*$", "(?>"],
  ])("%s is refused: ambiguous and needs a construct RE2 lacks", (pattern, construct) => {
    const r = compileDotnetRegex(pattern);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe("regex_catastrophic_backtracking");
      expect(r.error.construct).toContain(construct.slice(0, 2));
    }
  });
});

describe("adversarial inputs get correct answers", () => {
  const adversarial = `${"1".repeat(63)}x`;

  it.each([
    "^(\\d+)+$",
    "^(\\d|\\d)*$",
    "^(\\d*)*$",
    "^(1|11)*$",
  ])("%s against 63 digits and an x", (pattern) => {
    const p = compileNumberPattern(pattern);
    if (!p.ok) throw new Error(p.error.message);
    expect(p.value.test(adversarial)).toBe(false);
    expect(p.value.test("1".repeat(64))).toBe(true);
  });

  it("translates with the linear engine exactly as .NET would", () => {
    const r = compileTranslationRule("^(\\d+)+$", "+$1");
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.engine).toBe("linear");
    // The greedy inner loop takes every digit in one iteration, so $1 is the whole number.
    expect(r.value.apply("4255550100")).toBe("+4255550100");
    expect(r.value.apply(adversarial)).toBeNull();
  });
});

describe("both engines agree where both can run", () => {
  // Patterns the analysis keeps on V8, run through both engines on random dialled strings.
  const patterns = [
    "^(\\d{4})$",
    "^0?(999)$",
    "^#?(\\d{3,10})$",
    "(\\d)(\\d)",
    "^\\*?(\\d{2})(#?)$",
    "^1(425|206)(\\d+)$",
  ];

  it("gives the same translation for random inputs", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9*#]{0,16}$/), fc.constantFrom(...patterns), (input, pattern) => {
        const native = compileDotnetRegex(pattern);
        if (!native.ok) throw new Error(native.error.message);
        expect(native.value.engine).toBe("native");
        const linear = forceLinear(pattern);
        const a = native.value.exec(input);
        const b = linear.exec(input);
        expect(b === null).toBe(a === null);
        if (a !== null && b !== null) {
          expect([b.index, b.end]).toEqual([a.index, a.end]);
          for (let g = 0; g <= native.value.groupCount; g++) expect(b.group(g)).toBe(a.group(g));
        }
      }),
      { numRuns: 300, seed: 20260101 },
    );
  });
});

/** The same pattern on the linear engine: an extra ambiguous, never-matching branch forces it. */
function forceLinear(pattern: string) {
  const r = compileDotnetRegex(`(?:${pattern})|(?:z*)*y`);
  if (!r.ok || r.value.engine !== "linear") throw new Error("expected the linear engine");
  return r.value;
}
