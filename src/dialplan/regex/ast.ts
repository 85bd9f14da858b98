// The syntax tree of a .NET regular expression, after parsing and group numbering. Literal
// characters are one-element sets so the analysis treats every consuming node alike.
import type { CharSet } from "./char-set.js";

export type AssertionKind =
  /** `^` (without RegexOptions.Multiline), `\A`, `\G` (a single Match from 0 starts there). */
  | "start"
  /** `$` and `\Z`: end of input, or before a final `\n`. */
  | "endOrFinalNewline"
  /** `\z`: end of input only. */
  | "end"
  | "wordBoundary"
  | "notWordBoundary";

export type RegexNode =
  | { readonly kind: "empty" }
  | { readonly kind: "chars"; readonly set: CharSet }
  | { readonly kind: "sequence"; readonly items: readonly RegexNode[] }
  | { readonly kind: "alternation"; readonly branches: readonly RegexNode[] }
  | {
      readonly kind: "group";
      /** Key into the group table while parsing; null for (?:…). */
      readonly capture: GroupRef | null;
      readonly body: RegexNode;
    }
  | {
      readonly kind: "repeat";
      readonly body: RegexNode;
      readonly min: number;
      /** Infinity for unbounded. */
      readonly max: number;
      readonly lazy: boolean;
    }
  | { readonly kind: "assertion"; readonly assertion: AssertionKind }
  | {
      readonly kind: "lookaround";
      readonly behind: boolean;
      readonly negate: boolean;
      readonly body: RegexNode;
    }
  | { readonly kind: "atomic"; readonly body: RegexNode }
  | { readonly kind: "backreference"; readonly ref: BackreferenceTarget };

/** `\1` or `\k<name>`; resolved to its group once the whole pattern is parsed. */
export interface BackreferenceTarget {
  /** As written, for error messages: `\1`, `\k<area>`. */
  readonly source: string;
  readonly name: string | null;
  readonly number: number | null;
  group: GroupRef | null;
}

/** A capture group: its order of appearance and, once numbered, its .NET group number. */
export interface GroupRef {
  readonly name: string | null;
  /** 0-based position of its opening parenthesis among all capture groups. */
  readonly order: number;
  /** .NET group number: unnamed groups first, left to right, then named groups. */
  number: number;
}

export interface RegexFlags {
  readonly ignoreCase: boolean;
  readonly singleline: boolean;
  readonly explicitCapture: boolean;
  readonly ignoreWhitespace: boolean;
}

export interface ParsedRegex {
  readonly root: RegexNode;
  readonly flags: RegexFlags;
  /** Capture groups in order of appearance (index = order). */
  readonly groups: readonly GroupRef[];
  /** .NET group number -> name (or null), for 1..groupCount. */
  readonly groupCount: number;
  readonly groupNumbersByName: ReadonlyMap<string, number>;
}
