// A cheap check in front of the regex engine, built once per pattern at load: the input's length
// and first character can rule a match out without running the pattern. In a 50-rule plan most
// rules are decided here. Sound for any input, cleaned or not (number patterns and gateway
// translation rules use it too): every test below only rejects inputs no match can exist in.
import { anchoredFirstSet } from "./analyze.js";
import type { ParsedRegex } from "./ast.js";
import { CharSet } from "./char-set.js";
import type { RegexEngine } from "./compile.js";
import { matchLengthBounds, wholeInputEnd, wideCharsFor } from "./match-length.js";

const NEWLINE = 10;

export class MatchPrefilter {
  /** Fewest code units a match spans: a shorter input cannot hold one. */
  readonly minLength: number;
  /** Most code units a match spans when every match is the whole input, else Infinity. */
  readonly maxLength: number;
  /**
   * .NET `$`/`\Z` also match before a final `\n`, so a whole-input match may leave that one
   * character out. Cleaned dialled strings never contain `\n`; the filter still allows for it
   * rather than rely on cleaning, because route patterns see other inputs.
   */
  readonly allowsFinalNewline: boolean;
  /** First-character bitmap over ASCII (1 = may start a match), or null for no such filter. */
  private readonly firstAscii: Uint8Array | null;
  private readonly firstOther: boolean;

  constructor(parsed: ParsedRegex, engine: RegexEngine) {
    const bounds = matchLengthBounds(parsed.root, wideCharsFor(engine, parsed.flags.ignoreCase));
    const end = wholeInputEnd(parsed);
    this.minLength = bounds.min;
    this.maxLength = end === null ? Number.POSITIVE_INFINITY : bounds.max;
    this.allowsFinalNewline = end === "endOrFinalNewline";
    const first = anchoredFirstSet(parsed);
    if (first === null) {
      this.firstAscii = null;
      this.firstOther = true;
    } else {
      this.firstAscii = new Uint8Array(128);
      for (let c = 0; c < 128; c++) this.firstAscii[c] = first.contains(c) ? 1 : 0;
      this.firstOther = first.intersects(CharSet.range(128, 0xffff));
    }
  }

  /** False only when no match can exist in `input`. */
  mayMatch(input: string): boolean {
    const n = input.length;
    if (n < this.minLength) return false;
    if (
      n > this.maxLength &&
      !(this.allowsFinalNewline && n - 1 <= this.maxLength && input.charCodeAt(n - 1) === NEWLINE)
    )
      return false;
    if (this.firstAscii === null) return true;
    if (n === 0) return false;
    const c = input.charCodeAt(0);
    return c < 128 ? this.firstAscii[c] === 1 : this.firstOther;
  }
}
