// biome-ignore-all lint/suspicious/noTemplateCurlyInString: translations use .NET ${n} / ${name} substitution syntax
import { describe, expect, it } from "vitest";
import { compileNumberPattern, compileTranslationRule } from "../../src/dialplan/index.js";
import { compileDotnetRegex } from "../../src/dialplan/regex/compile.js";

function translate(pattern: string, translation: string, input: string): string | null {
  const r = compileTranslationRule(pattern, translation);
  if (!r.ok) throw new Error(r.error.message);
  return r.value.apply(input);
}

function rejection(pattern: string): { code: string; message: string } {
  const r = compileNumberPattern(pattern);
  if (r.ok) throw new Error(`expected '${pattern}' to be rejected`);
  return r.error;
}

describe(".NET substitutions (Match.Result semantics)", () => {
  it("reads all digits after $ as the group number; an unknown group leaves the token literal", () => {
    expect(translate("^(\\d{4})$", "+1425555$1", "0100")).toBe("+14255550100");
    expect(translate("^(\\d)$", "$10", "7")).toBe("$10");
    expect(translate("^(\\d)(\\d)(\\d)(\\d)(\\d)(\\d)(\\d)(\\d)(\\d)(\\d)$", "[$10]", "0123456789")).toBe(
      "[9]",
    );
    expect(translate("^(\\d)$", "$01", "7")).toBe("7");
  });

  it("supports ${n} and ${name}, and leaves unknown braced references literal", () => {
    expect(translate("^(\\d)$", "${1}0", "7")).toBe("70");
    expect(translate("^(?<area>\\d{3})(\\d{7})$", "+1${area}$1", "4255550100")).toBe("+14255550100");
    expect(translate("^(\\d)$", "${nope}${2}", "7")).toBe("${nope}${2}");
  });

  it("numbers unnamed groups first, then named groups", () => {
    // dialplan.md: in ^(?<area>\d{3})(\d{7})$ the unnamed group is $1 and area is $2.
    expect(translate("^(?<area>\\d{3})(\\d{7})$", "$1|$2|${area}", "4255550100")).toBe("5550100|425|425");
    expect(translate("^(?'area'\\d{3})-(\\d+)-(?<x>\\d)$", "$1,$2,$3", "425-555-9")).toBe("555,425,9");
  });

  it("expands $0 $& $` $' $+ $_ $$ and drops text outside the match", () => {
    expect(translate("(\\d)(\\d)", "[$0|$&|$`|$'|$+|$_|$$]", "*12#")).toBe("[12|12|*|#|2|*12#|$]");
    // Text outside the match is dropped: only the translation is the result.
    expect(translate("(999)$", "112", "0999")).toBe("112");
    expect(translate("^0(999)$", "$1", "0999")).toBe("999");
  });

  it("uses the highest-numbered group for $+ and the whole match when there is none", () => {
    expect(translate("^(\\d)(?<n>\\d)?(\\d)$", "$+", "12")).toBe("");
    expect(translate("^\\d+$", "<$+>", "12")).toBe("<12>");
  });

  it("substitutes a group that did not participate as empty and keeps a trailing $", () => {
    expect(translate("^(1)?(\\d{3})$", "[$1]$2$", "425")).toBe("[]425$");
    expect(translate("^(\\d)$", "$x$", "5")).toBe("$x$");
  });

  it("returns null when the pattern does not match", () => {
    expect(translate("^(\\d{4})$", "+1$1", "123")).toBeNull();
  });
});

describe(".NET pattern syntax", () => {
  const matches = (pattern: string, input: string): boolean => {
    const r = compileNumberPattern(pattern);
    if (!r.ok) throw new Error(r.error.message);
    return r.value.test(input);
  };

  it("uses search semantics", () => {
    expect(matches("555", "14255550100")).toBe(true);
    expect(matches("^555", "14255550100")).toBe(false);
  });

  it("treats \\A, \\z and \\Z as anchors; $ and \\Z also match before a final newline", () => {
    expect(matches("\\A\\d{3}\\z", "425")).toBe(true);
    expect(matches("\\A\\d{3}\\z", "4255")).toBe(false);
    expect(matches("^\\d{3}$", "425\n")).toBe(true);
    expect(matches("^\\d{3}\\Z", "425\n")).toBe(true);
    expect(matches("^\\d{3}\\z", "425\n")).toBe(false);
  });

  it("honours a leading (?i) and other leading options", () => {
    expect(matches("(?i)^ext(\\d+)$", "EXT12")).toBe(true);
    expect(matches("^ext(\\d+)$", "EXT12")).toBe(false);
    expect(matches("(?x) ^ \\d{3} # area code\n $", "425")).toBe(true);
    expect(matches("(?n)^(\\d)(?<d>\\d)$", "42")).toBe(true);
    expect(translate("(?n)^(\\d)(?<d>\\d)$", "$1", "42")).toBe("2");
  });

  it("does not let . match a newline, as in .NET", () => {
    expect(matches("^a.b$", "a\nb")).toBe(false);
    expect(matches("(?s)^a.b$", "a\nb")).toBe(true);
    expect(matches("^a.b$", "a\rb")).toBe(true);
  });

  it("reads .NET classes: \\w is Unicode, ] first in a class is literal, {,n} is literal", () => {
    expect(matches("^\\w$", "é")).toBe(true);
    expect(matches("^[]a]+$", "]a]")).toBe(true);
    expect(matches("^a{,2}$", "a{,2}")).toBe(true);
    expect(matches("^\\p{Lu}\\P{Lu}$", "Ab")).toBe(true);
  });

  it("keeps JavaScript's empty-match behaviour out of .NET semantics for word boundaries", () => {
    expect(matches("\\bé", " é")).toBe(true);
  });

  it("runs atomic groups and back references to groups that always captured", () => {
    expect(matches("^(?>\\d+)$", "123")).toBe(true);
    expect(matches("^(\\d)\\1$", "77")).toBe(true);
    expect(matches("^(\\d)\\1$", "78")).toBe(false);
    expect(matches("^(?<d>\\d)\\k<d>$", "77")).toBe(true);
  });

  it("keeps .NET's last capture of a group inside a repetition", () => {
    // V8 would report $1 as empty here (it resets captures per iteration); .NET reports "1".
    expect(translate("^(?:(1)|2)+$", "[$1]", "12")).toBe("[1]");
  });
});

describe("constructs without a faithful translation are refused at load, naming the construct", () => {
  it.each([
    ["balancing group", "^(?<open-close>\\d)$", "balancing group"],
    ["class subtraction", "^[0-9-[5]]$", "class subtraction"],
    ["conditional", "^(?(1)\\d|\\*)$", "conditional"],
    ["inline option group mid-pattern", "^1(?i)x$", "inline options"],
    ["scoped inline options", "^(?i:x)$", "inline options"],
    ["multiline option", "(?m)^1$", "Multiline"],
    ["numbered group", "^(?<2>\\d)$", "numbered groups"],
    ["Unicode block", "^\\p{IsGreek}$", "named blocks"],
    ["duplicate group name", "^(?<a>1)(?<a>2)$", "used twice"],
    ["back reference to an optional group", "^(1)?\\1$", "back reference"],
  ])("%s", (_label, pattern, words) => {
    const e = rejection(pattern);
    expect(e.code).toBe("regex_unsupported_construct");
    expect(e.message).toContain(words);
    expect(e.message).toContain(pattern);
  });

  it.each([
    ["^(\\d+", "not enough ')'"],
    ["^\\d+)$", "too many ')'"],
    ["*1", "following nothing"],
    ["^(|*1)$", "following nothing"],
    ["^1**$", "nested quantifier"],
    ["^[9-0]$", "reverse order"],
    ["^\\q$", "unrecognized escape"],
    ["^\\1(\\d)$", "back reference"],
    ["^\\2(\\d)$", "undefined group"],
    ["^1{3,2}$", "x > y"],
  ])("syntax error %s", (pattern, words) => {
    const e = rejection(pattern);
    expect(e.message).toContain(words);
  });

  it("refuses repetition counts beyond what a dialled string can need", () => {
    expect(rejection("^\\d{1001}$").code).toBe("regex_too_large");
  });
});

describe("group map between .NET and the emitted JavaScript", () => {
  it("maps .NET group numbers to emitted indices with atomic helper groups in between", () => {
    expect(translate("^(?>(\\d))(\\d)$", "$2$1", "12")).toBe("21");
    const r = compileDotnetRegex("^(?<a>\\d)(\\d)$");
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.groupCount).toBe(2);
    expect(r.value.groupNumbersByName.get("a")).toBe(2);
  });
});
