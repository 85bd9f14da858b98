// A parser for the .NET regular expression dialect (System.Text.RegularExpressions, default
// options), producing the syntax tree the analysis and the emitters work on. It accepts what
// .NET accepts and can be reproduced faithfully; every construct that cannot is rejected with
// an error that names it (dialplan.md, "The regex dialect").
import { type DialPlanError, fail, ok, type Result } from "../errors.js";
import type { BackreferenceTarget, GroupRef, ParsedRegex, RegexFlags, RegexNode } from "./ast.js";
import { CharSet } from "./char-set.js";
import { DIGIT, dotnetSpace, dotnetWord, isUnicodeCategory, unicodeCategory } from "./unicode-categories.js";

/** Repetition counts above this are refused: dialled strings are at most 64 characters. */
export const MAX_REPEAT_COUNT = 1000;
/** Patterns longer than this are refused before parsing. */
export const MAX_PATTERN_LENGTH = 2048;

const NEWLINE = 0x0a;

class ParseFailure {
  constructor(readonly error: DialPlanError) {}
}

interface MutableFlags {
  ignoreCase: boolean;
  singleline: boolean;
  explicitCapture: boolean;
  ignoreWhitespace: boolean;
}

class Parser {
  private pos = 0;
  private readonly groups: GroupRef[] = [];
  private readonly backrefs: BackreferenceTarget[] = [];
  readonly flags: MutableFlags = {
    ignoreCase: false,
    singleline: false,
    explicitCapture: false,
    ignoreWhitespace: false,
  };

  constructor(private readonly src: string) {}

  parse(): ParsedRegex {
    this.leadingOptions();
    const root = this.alternation();
    if (this.pos < this.src.length) {
      // Only an unbalanced `)` stops the top-level alternation early.
      this.syntax("too many ')'", ")", this.pos);
    }
    const { groupCount, byName } = this.numberGroups();
    for (const ref of this.backrefs) {
      const group =
        ref.name !== null
          ? this.groups.find((g) => g.name === ref.name)
          : this.groups.find((g) => g.number === ref.number);
      if (group === undefined) this.syntax(`reference to undefined group ${ref.source}`, ref.source);
      ref.group = group;
    }
    return {
      root,
      flags: { ...this.flags } satisfies RegexFlags,
      groups: this.groups,
      groupCount,
      groupNumbersByName: byName,
    };
  }

  // .NET numbers unnamed groups first, left to right, then named groups in order of first
  // appearance ("Grouping constructs in regular expressions", Numbered and named groups).
  private numberGroups(): { groupCount: number; byName: Map<string, number> } {
    let n = 0;
    for (const g of this.groups) if (g.name === null) g.number = ++n;
    const byName = new Map<string, number>();
    for (const g of this.groups) {
      if (g.name === null) continue;
      g.number = ++n;
      byName.set(g.name, g.number);
    }
    return { groupCount: n, byName };
  }

  // --- errors ------------------------------------------------------------------------------

  private syntax(message: string, construct?: string, offset = this.pos): never {
    throw new ParseFailure({
      code: "regex_syntax",
      message: `invalid .NET regular expression at offset ${offset}: ${message}`,
      ...(construct !== undefined ? { construct } : {}),
      offset,
    });
  }

  private unsupported(construct: string, why: string, offset = this.pos): never {
    throw new ParseFailure({
      code: "regex_unsupported_construct",
      message: `unsupported construct ${construct} at offset ${offset}: ${why}`,
      construct,
      offset,
    });
  }

  // --- options -----------------------------------------------------------------------------

  // A leading `(?imnsx-imnsx)` sets options for the whole pattern (dialplan.md allows a
  // leading `(?i)`); the same group anywhere else changes options mid-pattern, which is refused.
  private leadingOptions(): void {
    for (;;) {
      const m = /^\(\?([imnsx]*)(?:-([imnsx]*))?\)/.exec(this.src.slice(this.pos));
      if (m === null || (m[1] === "" && (m[2] ?? "") === "")) return;
      for (const ch of m[1] ?? "") this.setOption(ch, true, this.pos);
      for (const ch of m[2] ?? "") this.setOption(ch, false, this.pos);
      this.pos += m[0].length;
    }
  }

  private setOption(ch: string, on: boolean, at: number): void {
    switch (ch) {
      case "i":
        this.flags.ignoreCase = on;
        return;
      case "s":
        this.flags.singleline = on;
        return;
      case "n":
        this.flags.explicitCapture = on;
        return;
      case "x":
        this.flags.ignoreWhitespace = on;
        return;
      case "m":
        if (on)
          this.unsupported(
            "(?m)",
            "the Multiline option makes ^ and $ match at every line; a dialled number is one line, remove it",
            at,
          );
        return;
    }
  }

  // --- structure ---------------------------------------------------------------------------

  private alternation(): RegexNode {
    const branches = [this.sequence()];
    while (this.peek() === "|") {
      this.pos++;
      branches.push(this.sequence());
    }
    return branches.length === 1 ? branches[0]! : { kind: "alternation", branches };
  }

  private sequence(): RegexNode {
    const items: RegexNode[] = [];
    for (;;) {
      this.skipWhitespaceAndComments();
      const ch = this.peek();
      if (ch === undefined || ch === "|" || ch === ")") break;
      const atomAt = this.pos;
      const atom = this.atom();
      if (atom === null) continue;
      items.push(this.quantified(atom, atomAt));
    }
    if (items.length === 0) return { kind: "empty" };
    return items.length === 1 ? items[0]! : { kind: "sequence", items };
  }

  private quantified(atom: RegexNode, atomAt: number): RegexNode {
    this.skipWhitespaceAndComments();
    const q = this.quantifier();
    if (q === null) return atom;
    let lazy = false;
    if (this.peek() === "?") {
      lazy = true;
      this.pos++;
    }
    this.skipWhitespaceAndComments();
    const next = this.quantifierAhead();
    if (next) this.syntax(`nested quantifier '${this.src[this.pos]}'`, this.src[this.pos]);
    if (q.min > MAX_REPEAT_COUNT || (q.max !== Number.POSITIVE_INFINITY && q.max > MAX_REPEAT_COUNT)) {
      throw new ParseFailure({
        code: "regex_too_large",
        message: `repetition count at offset ${atomAt} exceeds ${MAX_REPEAT_COUNT}; dialled strings are at most 64 characters`,
        construct: this.src.slice(atomAt, this.pos),
        offset: atomAt,
      });
    }
    return { kind: "repeat", body: atom, min: q.min, max: q.max, lazy };
  }

  /** True when a quantifier starts at the current position. */
  private quantifierAhead(): boolean {
    const ch = this.peek();
    if (ch === "*" || ch === "+" || ch === "?") return true;
    return ch === "{" && /^\{\d+(,\d*)?\}/.test(this.src.slice(this.pos));
  }

  private quantifier(): { min: number; max: number } | null {
    const ch = this.peek();
    if (ch === "*") {
      this.pos++;
      return { min: 0, max: Number.POSITIVE_INFINITY };
    }
    if (ch === "+") {
      this.pos++;
      return { min: 1, max: Number.POSITIVE_INFINITY };
    }
    if (ch === "?") {
      this.pos++;
      return { min: 0, max: 1 };
    }
    if (ch !== "{") return null;
    // `{n}`, `{n,}`, `{n,m}`; anything else (e.g. `{,3}`) is a literal `{` in .NET.
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
    if (m === null) return null;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === "" ? Number.POSITIVE_INFINITY : Number(m[3]);
    if (max < min) this.syntax(`illegal {x,y} with x > y in '${m[0]}'`, m[0]);
    this.pos += m[0].length;
    return { min, max };
  }

  private atom(): RegexNode | null {
    const start = this.pos;
    const ch = this.src[this.pos]!;
    switch (ch) {
      case "(":
        return this.group();
      case "[":
        return { kind: "chars", set: this.charClass() };
      case ".":
        this.pos++;
        // `.` is any character but \n; with (?s) any character at all.
        return { kind: "chars", set: this.flags.singleline ? CharSet.ALL : CharSet.of(NEWLINE).complement() };
      case "^":
        this.pos++;
        return { kind: "assertion", assertion: "start" };
      case "$":
        this.pos++;
        return { kind: "assertion", assertion: "endOrFinalNewline" };
      case "\\":
        return this.escape();
      case "*":
      case "+":
      case "?":
        this.syntax(`quantifier '${ch}' following nothing`, ch, start);
        break;
      case "{":
        if (this.quantifierAhead()) this.syntax("quantifier {x,y} following nothing", "{", start);
        break;
    }
    this.pos++;
    return { kind: "chars", set: CharSet.of(ch.charCodeAt(0)) };
  }

  private group(): RegexNode | null {
    const start = this.pos;
    this.pos++; // (
    if (this.peek() !== "?") {
      if (this.flags.explicitCapture)
        return this.closeGroup({ kind: "group", capture: null, body: this.alternation() }, start);
      const ref = this.newGroup(null);
      return this.closeGroup({ kind: "group", capture: ref, body: this.alternation() }, start);
    }
    this.pos++; // ?
    const rest = this.src.slice(this.pos);
    const c = rest[0];
    if (c === ":") {
      this.pos++;
      return this.closeGroup({ kind: "group", capture: null, body: this.alternation() }, start);
    }
    if (c === "=" || c === "!") {
      this.pos++;
      return this.closeGroup(
        { kind: "lookaround", behind: false, negate: c === "!", body: this.alternation() },
        start,
      );
    }
    if (rest.startsWith("<=") || rest.startsWith("<!")) {
      this.pos += 2;
      return this.closeGroup(
        { kind: "lookaround", behind: true, negate: rest[1] === "!", body: this.alternation() },
        start,
      );
    }
    if (c === ">") {
      this.pos++;
      return this.closeGroup({ kind: "atomic", body: this.alternation() }, start);
    }
    if (c === "#") {
      // (?#comment): .NET ends it at the first ')'.
      const end = this.src.indexOf(")", this.pos);
      if (end < 0) this.syntax("unterminated (?#...) comment", "(?#", start);
      this.pos = end + 1;
      return null;
    }
    if (c === "(")
      this.unsupported(
        "(?(…)…|…)",
        "conditional (alternation) constructs have no JavaScript equivalent",
        start,
      );
    if (c === "<" || c === "'") return this.namedGroup(start, c === "<" ? ">" : "'");
    const opts = /^[imnsx]*(?:-[imnsx]*)?[:)]/.exec(rest);
    if (opts !== null) {
      this.unsupported(
        `(?${opts[0]}`,
        "inline options are only allowed as a leading (?i) style group at the very start of the pattern",
        start,
      );
    }
    if (c === "r" || c === "R")
      this.unsupported("RightToLeft", "right-to-left matching is not supported", start);
    this.syntax(`unrecognized grouping construct '(?${c ?? ""}'`, `(?${c ?? ""}`, start);
  }

  private namedGroup(start: number, close: string): RegexNode {
    this.pos++; // < or '
    const end = this.src.indexOf(close, this.pos);
    if (end < 0) this.syntax("unterminated group name", this.src.slice(start), start);
    const name = this.src.slice(this.pos, end);
    if (name.includes("-"))
      this.unsupported(
        `(?${this.src[start + 2]}${name}${close}`,
        "balancing group definitions have no JavaScript equivalent",
        start,
      );
    if (/^\d+$/.test(name))
      this.unsupported(
        `(?<${name}>`,
        "explicitly numbered groups are not supported; use a named or an unnamed group",
        start,
      );
    if (!isGroupName(name)) this.syntax(`invalid group name '${name}'`, name, start);
    this.pos = end + 1;
    const ref = this.groups.find((g) => g.name === name);
    if (ref !== undefined)
      this.unsupported(
        `(?<${name}>`,
        `group name '${name}' is used twice; .NET merges the captures, which cannot be reproduced`,
        start,
      );
    return this.closeGroup({ kind: "group", capture: this.newGroup(name), body: this.alternation() }, start);
  }

  private newGroup(name: string | null): GroupRef {
    const ref: GroupRef = { name, order: this.groups.length, number: 0 };
    this.groups.push(ref);
    return ref;
  }

  private closeGroup(node: RegexNode, start: number): RegexNode {
    if (this.peek() !== ")") this.syntax("not enough ')'", "(", start);
    this.pos++;
    return node;
  }

  // --- escapes -----------------------------------------------------------------------------

  private escape(): RegexNode {
    const start = this.pos;
    this.pos++; // backslash
    const ch = this.src[this.pos];
    if (ch === undefined) this.syntax("illegal \\ at end of pattern", "\\", start);
    switch (ch) {
      case "A":
      case "G":
        this.pos++;
        return { kind: "assertion", assertion: "start" };
      case "Z":
        this.pos++;
        return { kind: "assertion", assertion: "endOrFinalNewline" };
      case "z":
        this.pos++;
        return { kind: "assertion", assertion: "end" };
      case "b":
        this.pos++;
        return { kind: "assertion", assertion: "wordBoundary" };
      case "B":
        this.pos++;
        return { kind: "assertion", assertion: "notWordBoundary" };
      case "k":
        return this.namedBackreference(start);
    }
    if (ch >= "1" && ch <= "9") {
      const digits = /^\d+/.exec(this.src.slice(this.pos))![0];
      this.pos += digits.length;
      return this.backreference({ source: `\\${digits}`, name: null, number: Number(digits), group: null });
    }
    const set = this.classEscape(false);
    return { kind: "chars", set };
  }

  private namedBackreference(start: number): RegexNode {
    this.pos++; // k
    const open = this.peek();
    const close = open === "<" ? ">" : open === "'" ? "'" : undefined;
    if (close === undefined) this.syntax("malformed \\k<...> named back reference", "\\k", start);
    const end = this.src.indexOf(close, this.pos + 1);
    if (end < 0) this.syntax("malformed \\k<...> named back reference", "\\k", start);
    const name = this.src.slice(this.pos + 1, end);
    this.pos = end + 1;
    const source = this.src.slice(start, this.pos);
    if (/^\d+$/.test(name))
      return this.backreference({ source, name: null, number: Number(name), group: null });
    return this.backreference({ source, name, number: null, group: null });
  }

  private backreference(ref: BackreferenceTarget): RegexNode {
    this.backrefs.push(ref);
    return { kind: "backreference", ref };
  }

  /**
   * An escape that stands for a set of characters: shorthand classes, \p{..}, and single
   * characters. The backslash is consumed; `pos` is at the character after it.
   */
  private classEscape(inClass: boolean): CharSet {
    const start = this.pos - 1;
    const ch = this.src[this.pos]!;
    this.pos++;
    switch (ch) {
      case "d":
        return DIGIT;
      case "D":
        return DIGIT.complement();
      case "w":
        return dotnetWord();
      case "W":
        return dotnetWord().complement();
      case "s":
        return dotnetSpace();
      case "S":
        return dotnetSpace().complement();
      case "p":
      case "P": {
        const m = /^\{([^}]*)\}/.exec(this.src.slice(this.pos));
        if (m === null) this.syntax(`malformed \\${ch}{X} character escape`, `\\${ch}`, start);
        const name = m[1]!;
        this.pos += m[0].length;
        if (!isUnicodeCategory(name))
          this.unsupported(
            `\\${ch}{${name}}`,
            "only Unicode general categories (such as \\p{L}, \\p{Nd}) are supported; named blocks are not",
            start,
          );
        const set = unicodeCategory(name);
        return ch === "P" ? set.complement() : set;
      }
      case "b":
        if (inClass) return CharSet.of(0x08);
        break;
      case "t":
        return CharSet.of(0x09);
      case "n":
        return CharSet.of(0x0a);
      case "v":
        return CharSet.of(0x0b);
      case "f":
        return CharSet.of(0x0c);
      case "r":
        return CharSet.of(0x0d);
      case "a":
        return CharSet.of(0x07);
      case "e":
        return CharSet.of(0x1b);
      case "0": {
        // \0 followed by up to two more octal digits.
        const m = /^[0-7]{0,2}/.exec(this.src.slice(this.pos))![0];
        this.pos += m.length;
        return CharSet.of(Number.parseInt(`0${m}`, 8));
      }
      case "x": {
        const m = /^[0-9a-fA-F]{2}/.exec(this.src.slice(this.pos));
        if (m === null) this.syntax("insufficient hexadecimal digits after \\x", "\\x", start);
        this.pos += 2;
        return CharSet.of(Number.parseInt(m[0], 16));
      }
      case "u": {
        const m = /^[0-9a-fA-F]{4}/.exec(this.src.slice(this.pos));
        if (m === null) this.syntax("insufficient hexadecimal digits after \\u", "\\u", start);
        this.pos += 4;
        return CharSet.of(Number.parseInt(m[0], 16));
      }
      case "c": {
        const letter = this.src[this.pos];
        if (letter === undefined || !/[a-zA-Z]/.test(letter))
          this.syntax("missing control character after \\c", "\\c", start);
        this.pos++;
        return CharSet.of(letter.toUpperCase().charCodeAt(0) - 64);
      }
    }
    // .NET: an escaped non-word character is that character; an escaped word character that
    // is not a known escape is an error ("Unrecognized escape sequence").
    if (/[\p{L}\p{Nd}_]/u.test(ch)) {
      if (inClass && /\d/.test(ch)) return CharSet.of(ch.charCodeAt(0));
      this.syntax(`unrecognized escape sequence \\${ch}`, `\\${ch}`, start);
    }
    return CharSet.of(ch.charCodeAt(0));
  }

  // --- character classes -------------------------------------------------------------------

  private charClass(): CharSet {
    const start = this.pos;
    this.pos++; // [
    let negate = false;
    if (this.peek() === "^") {
      negate = true;
      this.pos++;
    }
    let set = CharSet.EMPTY;
    let first = true;
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) this.syntax("unterminated [] set", "[", start);
      if (ch === "]" && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (ch === "-" && this.src[this.pos + 1] === "[") {
        this.unsupported(
          this.src.slice(start, Math.max(this.src.indexOf("]]", this.pos) + 2, this.pos + 2)),
          "character class subtraction has no JavaScript equivalent; list the characters instead",
          this.pos,
        );
      }
      const itemAt = this.pos;
      const lo = this.classAtom();
      if (this.peek() === "-" && this.src[this.pos + 1] !== "]" && this.src[this.pos + 1] !== undefined) {
        if (this.src[this.pos + 1] === "[") {
          set = set.union(lo.set);
          continue; // subtraction, reported on the next round
        }
        this.pos++; // -
        const hi = this.classAtom();
        if (lo.single === null || hi.single === null)
          this.syntax(
            `cannot include a class in a character range: '${this.src.slice(itemAt, this.pos)}'`,
            this.src.slice(itemAt, this.pos),
            itemAt,
          );
        if (hi.single < lo.single)
          this.syntax(
            `[x-y] range in reverse order: '${this.src.slice(itemAt, this.pos)}'`,
            this.src.slice(itemAt, this.pos),
            itemAt,
          );
        set = set.union(CharSet.range(lo.single, hi.single));
      } else {
        set = set.union(lo.set);
      }
    }
    return negate ? set.complement() : set;
  }

  private classAtom(): { set: CharSet; single: number | null } {
    const ch = this.src[this.pos]!;
    if (ch !== "\\") {
      this.pos++;
      const code = ch.charCodeAt(0);
      return { set: CharSet.of(code), single: code };
    }
    this.pos++;
    if (this.src[this.pos] === undefined) this.syntax("illegal \\ at end of pattern", "\\", this.pos - 1);
    const escaped = this.src[this.pos]!;
    const set = this.classEscape(true);
    const isClass = "dDwWsSpP".includes(escaped);
    return { set, single: isClass ? null : set.single() };
  }

  // --- helpers -----------------------------------------------------------------------------

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  // RegexOptions.IgnorePatternWhitespace: unescaped white space is ignored and `#` starts a
  // comment to the end of the line (outside character classes).
  private skipWhitespaceAndComments(): void {
    if (!this.flags.ignoreWhitespace) return;
    for (;;) {
      const ch = this.peek();
      if (ch !== undefined && /\s/.test(ch)) this.pos++;
      else if (ch === "#") {
        const nl = this.src.indexOf("\n", this.pos);
        this.pos = nl < 0 ? this.src.length : nl + 1;
      } else return;
    }
  }
}

function isGroupName(name: string): boolean {
  return /^[\p{L}\p{Mn}\p{Nd}\p{Pc}]+$/u.test(name) && !/^\d/.test(name);
}

export function parseDotnetRegex(pattern: string): Result<ParsedRegex> {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return fail({
      code: "regex_too_large",
      message: `pattern is ${pattern.length} characters long; at most ${MAX_PATTERN_LENGTH} are allowed`,
    });
  }
  try {
    return ok(new Parser(pattern).parse());
  } catch (err) {
    if (err instanceof ParseFailure) return fail(err.error);
    throw err;
  }
}
