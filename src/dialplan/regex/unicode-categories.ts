// Unicode general categories as code-unit sets, and the .NET shorthand classes built from them.
// Computed lazily from V8's own Unicode tables (a `u`-flag RegExp per category) so no table is
// copied into the source; each category costs one scan of the BMP, once per process.
import { CharSet } from "./char-set.js";

/** The general categories .NET accepts in \p{…} (its "Unicode categories"). */
const CATEGORIES = new Set([
  "L",
  "Lu",
  "Ll",
  "Lt",
  "Lm",
  "Lo",
  "M",
  "Mn",
  "Mc",
  "Me",
  "N",
  "Nd",
  "Nl",
  "No",
  "P",
  "Pc",
  "Pd",
  "Ps",
  "Pe",
  "Pi",
  "Pf",
  "Po",
  "S",
  "Sm",
  "Sc",
  "Sk",
  "So",
  "Z",
  "Zs",
  "Zl",
  "Zp",
  "C",
  "Cc",
  "Cf",
  "Cs",
  "Co",
  "Cn",
]);

const cache = new Map<string, CharSet>();

export function isUnicodeCategory(name: string): boolean {
  return CATEGORIES.has(name);
}

export function unicodeCategory(name: string): CharSet {
  const hit = cache.get(name);
  if (hit) return hit;
  // Surrogates are category Cs for a lone code unit, which is how .NET sees them.
  const probe = new RegExp(`^\\p{${name === "Cn" ? "Cn" : name}}$`, "u");
  const flat: number[] = [];
  for (let c = 0; c <= 0xffff; c++) {
    if (probe.test(String.fromCharCode(c))) flat.push(c, c);
  }
  const set = CharSet.fromRanges(flat);
  cache.set(name, set);
  return set;
}

let word: CharSet | undefined;
let space: CharSet | undefined;

/** .NET `\w`: [\p{L}\p{Mn}\p{Nd}\p{Pc}] (docs: "Character classes in regular expressions"). */
export function dotnetWord(): CharSet {
  word ??= unicodeCategory("L")
    .union(unicodeCategory("Mn"))
    .union(unicodeCategory("Nd"))
    .union(unicodeCategory("Pc"));
  return word;
}

/** .NET `\s`: [\f\n\r\t\v\x85\p{Z}]. */
export function dotnetSpace(): CharSet {
  space ??= CharSet.of(0x0c, 0x0a, 0x0d, 0x09, 0x0b, 0x85).union(unicodeCategory("Z"));
  return space;
}

/**
 * `\d`. .NET's `\d` is \p{Nd}; dialplan.md fixes that input is cleaned to ASCII digits before
 * any rule runs ("after cleaning, \d in JavaScript and .NET agree"), so `\d` is [0-9] here,
 * which keeps the hot path on V8's fastest class test.
 */
export const DIGIT = CharSet.range(0x30, 0x39);
