// Load-time bounds on how many UTF-16 code units a match of a parsed .NET pattern can span, and
// whether every match must cover the whole input. Together they let the dial plan loop skip a
// rule on the input's length alone: `^(\d{10})$` cannot match a 5-digit string, and no regex
// engine needs to be entered to find that out. Every answer here over-approximates what can
// match, so a rule the filter skips could not have matched (it never changes a result).
import type { ParsedRegex, RegexNode } from "./ast.js";
import { CharSet } from "./char-set.js";
import type { RegexEngine } from "./compile.js";

export interface LengthBounds {
  readonly min: number;
  /** Infinity when unbounded. */
  readonly max: number;
}

/**
 * How the end of every match is pinned: `end` — at the end of the input (`\z`); `endOrFinalNewline`
 * — there or just before a final `\n` (.NET `$` and `\Z`); null — anywhere (no filter on `max`).
 */
export type WholeInputEnd = "end" | "endOrFinalNewline" | null;

const SURROGATES = CharSet.range(0xd800, 0xdfff);

/** 0 × ∞ is 0 here (a part repeated zero times, or a zero-width part repeated forever). */
function times(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : a * b;
}

/**
 * `wide`: whether one character class may consume two code units. V8's RegExp without the `u`
 * flag always consumes one; RE2 matches code points, so a class that holds surrogates (emitted
 * as "also any supplementary character", see emit.ts) — or any class under `(?i)`, whose case
 * folding RE2 does on code points — may consume a surrogate pair.
 */
export function matchLengthBounds(node: RegexNode, wide: (set: CharSet) => boolean): LengthBounds {
  switch (node.kind) {
    case "empty":
    case "assertion":
    case "lookaround":
      // Zero-width: a lookaround looks at text but the match does not include it.
      return { min: 0, max: 0 };
    case "chars":
      return { min: 1, max: wide(node.set) ? 2 : 1 };
    case "backreference":
      // The referenced text can be anything its group matched (or, in JavaScript, empty).
      return { min: 0, max: Number.POSITIVE_INFINITY };
    case "group":
    case "atomic":
      return matchLengthBounds(node.body, wide);
    case "sequence": {
      let min = 0;
      let max = 0;
      for (const item of node.items) {
        const b = matchLengthBounds(item, wide);
        min += b.min;
        max += b.max;
      }
      return { min, max };
    }
    case "alternation": {
      let min = Number.POSITIVE_INFINITY;
      let max = 0;
      for (const branch of node.branches) {
        const b = matchLengthBounds(branch, wide);
        min = Math.min(min, b.min);
        max = Math.max(max, b.max);
      }
      return { min: node.branches.length === 0 ? 0 : min, max };
    }
    case "repeat": {
      const b = matchLengthBounds(node.body, wide);
      return { min: times(node.min, b.min), max: times(node.max, b.max) };
    }
  }
}

/** Whether every match of `node` begins at the start of the input (`^`, `\A`, `\G`). */
function startsAtInputStart(node: RegexNode): boolean {
  switch (node.kind) {
    case "assertion":
      return node.assertion === "start";
    case "sequence":
      return node.items.length > 0 && startsAtInputStart(node.items[0]!);
    case "group":
    case "atomic":
      return startsAtInputStart(node.body);
    case "alternation":
      return node.branches.length > 0 && node.branches.every(startsAtInputStart);
    default:
      return false;
  }
}

/** How every match of `node` is pinned at its end; null when it is not (see WholeInputEnd). */
function endsAtInputEnd(node: RegexNode): WholeInputEnd {
  switch (node.kind) {
    case "assertion":
      return node.assertion === "end" || node.assertion === "endOrFinalNewline" ? node.assertion : null;
    case "sequence":
      // Only the last item: a `$` followed by anything else (`^1$\n`) does not pin the end.
      return node.items.length > 0 ? endsAtInputEnd(node.items[node.items.length - 1]!) : null;
    case "group":
    case "atomic":
      return endsAtInputEnd(node.body);
    case "alternation": {
      let out: WholeInputEnd = "end";
      for (const branch of node.branches) {
        const e = endsAtInputEnd(branch);
        if (e === null) return null;
        if (e === "endOrFinalNewline") out = e;
      }
      return node.branches.length > 0 ? out : null;
    }
    default:
      return null;
  }
}

/**
 * For a pattern every match of which starts at the input's start and ends at its end (or, for
 * `$`/`\Z`, just before a final `\n`), how the end is pinned; null for any other pattern.
 */
export function wholeInputEnd(parsed: ParsedRegex): WholeInputEnd {
  return startsAtInputStart(parsed.root) ? endsAtInputEnd(parsed.root) : null;
}

/** The `wide` predicate of matchLengthBounds for the engine that will run the pattern. */
export function wideCharsFor(engine: RegexEngine, ignoreCase: boolean): (set: CharSet) => boolean {
  if (engine === "native") return () => false;
  return (set) => ignoreCase || set.intersects(SURROGATES);
}
