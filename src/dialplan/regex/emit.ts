// Emitters: the parsed .NET pattern written out as JavaScript RegExp source (no `u` flag, so
// both sides match UTF-16 code units) or as RE2 syntax for the linear-time engine. Every
// capture group is emitted unnamed; the group map ties .NET group numbers to emitted indices.
import type { ParsedRegex, RegexNode } from "./ast.js";
import { CharSet } from "./char-set.js";
import { DIGIT, dotnetWord } from "./unicode-categories.js";

export interface EmittedRegex {
  readonly source: string;
  readonly flags: string;
  /** Index = .NET group number (0 = whole match), value = emitted group index. */
  readonly groupIndex: readonly number[];
}

const isPlain = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

function hex4(c: number): string {
  return c.toString(16).padStart(4, "0");
}

function quantifierText(min: number, max: number, lazy: boolean): string {
  let q: string;
  if (min === 0 && max === Number.POSITIVE_INFINITY) q = "*";
  else if (min === 1 && max === Number.POSITIVE_INFINITY) q = "+";
  else if (min === 0 && max === 1) q = "?";
  else if (max === Number.POSITIVE_INFINITY) q = `{${min},}`;
  else if (min === max) q = `{${min}}`;
  else q = `{${min},${max}}`;
  return lazy ? `${q}?` : q;
}

/** Emitted capture indices: every capture group in order of its opening parenthesis. */
function groupIndexFor(parsed: ParsedRegex, emittedOrder: ReadonlyMap<number, number>): number[] {
  const out = [0];
  for (const g of parsed.groups) out[g.number] = emittedOrder.get(g.order)!;
  return out;
}

// ---------------------------------------------------------------------------------------------
// JavaScript

class JsEmitter {
  private next = 1;
  /** group order -> emitted index */
  readonly captureIndex = new Map<number, number>();
  /** atomic node -> emitted index of its helper group */
  private readonly atomicIndex = new Map<RegexNode, number>();

  constructor(root: RegexNode) {
    this.number(root);
  }

  // Emitted indices follow opening parentheses left to right, atomic helpers included.
  private number(node: RegexNode): void {
    switch (node.kind) {
      case "group":
        if (node.capture !== null) this.captureIndex.set(node.capture.order, this.next++);
        this.number(node.body);
        return;
      case "atomic":
        this.atomicIndex.set(node, this.next++);
        this.number(node.body);
        return;
      case "sequence":
        node.items.forEach((n) => this.number(n));
        return;
      case "alternation":
        node.branches.forEach((n) => this.number(n));
        return;
      case "repeat":
      case "lookaround":
        this.number(node.body);
        return;
      default:
        return;
    }
  }

  emit(node: RegexNode): string {
    switch (node.kind) {
      case "empty":
        return "(?:)";
      case "chars":
        return jsSet(node.set);
      case "sequence":
        return node.items.map((n) => this.emit(n)).join("");
      case "alternation":
        return node.branches.map((n) => this.emit(n)).join("|");
      case "group":
        return node.capture === null ? `(?:${this.emit(node.body)})` : `(${this.emit(node.body)})`;
      case "repeat": {
        const body =
          node.body.kind === "chars" || node.body.kind === "group"
            ? this.emit(node.body)
            : `(?:${this.emit(node.body)})`;
        return body + quantifierText(node.min, node.max, node.lazy);
      }
      case "assertion":
        switch (node.assertion) {
          case "start":
            return "^";
          case "end":
            return "$";
          // .NET `$` and `\Z` also match before a final \n; JavaScript's `$` does not.
          case "endOrFinalNewline":
            return "(?=\\n?$)";
          // .NET word boundaries use .NET's Unicode \w; JavaScript's \b is ASCII-only.
          case "wordBoundary": {
            const w = jsSet(dotnetWord());
            return `(?:(?<=${w})(?!${w})|(?<!${w})(?=${w}))`;
          }
          case "notWordBoundary": {
            const w = jsSet(dotnetWord());
            return `(?:(?<=${w})(?=${w})|(?<!${w})(?!${w}))`;
          }
        }
        break;
      case "lookaround": {
        const open = node.behind ? (node.negate ? "(?<!" : "(?<=") : node.negate ? "(?!" : "(?=";
        return `${open}${this.emit(node.body)})`;
      }
      case "atomic": {
        // JavaScript has no atomic groups; a lookahead captures what the body matches without
        // backtracking into it, and the back reference consumes exactly that text.
        const i = this.atomicIndex.get(node)!;
        return `(?:(?=(${this.emit(node.body)}))\\${i})`;
      }
      case "backreference":
        return `(?:\\${this.captureIndex.get(node.ref.group!.order)!})`;
    }
    return "";
  }
}

function jsChar(c: number): string {
  return isPlain(c) ? String.fromCharCode(c) : `\\u${hex4(c)}`;
}

function jsRanges(set: CharSet): string {
  let out = "";
  const r = set.ranges;
  for (let i = 0; i < r.length; i += 2) {
    const lo = r[i]!;
    const hi = r[i + 1]!;
    out += lo === hi ? jsChar(lo) : hi === lo + 1 ? jsChar(lo) + jsChar(hi) : `${jsChar(lo)}-${jsChar(hi)}`;
  }
  return out;
}

function jsSet(set: CharSet): string {
  const one = set.single();
  if (one !== null) return jsChar(one);
  if (set.equals(DIGIT)) return "\\d";
  if (set.equals(CharSet.ALL)) return "[\\s\\S]";
  if (set.isEmpty()) return "[]";
  const neg = set.complement();
  return neg.ranges.length < set.ranges.length ? `[^${jsRanges(neg)}]` : `[${jsRanges(set)}]`;
}

export function emitJavaScript(parsed: ParsedRegex): EmittedRegex {
  const e = new JsEmitter(parsed.root);
  return {
    source: e.emit(parsed.root),
    flags: parsed.flags.ignoreCase ? "i" : "",
    groupIndex: groupIndexFor(parsed, e.captureIndex),
  };
}

// ---------------------------------------------------------------------------------------------
// RE2 (re2js). Called only for patterns without lookarounds, atomic groups, back references
// and word boundaries (findBacktrackingOnlyConstruct), which RE2 does not have.

function re2Char(c: number): string {
  return isPlain(c) ? String.fromCharCode(c) : `\\x{${c.toString(16)}}`;
}

function re2Set(set: CharSet): string {
  const one = set.single();
  if (one !== null && (one < 0xd800 || one > 0xdfff)) return re2Char(one);
  if (set.equals(DIGIT)) return "[0-9]";
  if (set.isEmpty()) return "[^\\x{0}-\\x{10ffff}]";
  // RE2 matches code points. A .NET class that holds surrogate code units matches the halves
  // of a pair one at a time; the nearest RE2 reading is "also any supplementary character".
  const clipped: number[] = [];
  const r = set.ranges;
  for (let i = 0; i < r.length; i += 2) {
    const lo = r[i]!;
    const hi = r[i + 1]!;
    if (hi < 0xd800 || lo > 0xdfff) clipped.push(lo, hi);
    else {
      if (lo < 0xd800) clipped.push(lo, 0xd7ff);
      if (hi > 0xdfff) clipped.push(0xe000, hi);
    }
  }
  let out = "";
  for (let i = 0; i < clipped.length; i += 2) {
    const lo = clipped[i]!;
    const hi = clipped[i + 1]!;
    out += lo === hi ? re2Char(lo) : `${re2Char(lo)}-${re2Char(hi)}`;
  }
  if (set.contains(0xd800)) out += "\\x{10000}-\\x{10ffff}";
  return out === "" ? "[^\\x{0}-\\x{10ffff}]" : `[${out}]`;
}

function emitRe2Node(node: RegexNode): string {
  switch (node.kind) {
    case "empty":
      return "(?:)";
    case "chars":
      return re2Set(node.set);
    case "sequence":
      return node.items.map(emitRe2Node).join("");
    case "alternation":
      return node.branches.map(emitRe2Node).join("|");
    case "group":
      return node.capture === null ? `(?:${emitRe2Node(node.body)})` : `(${emitRe2Node(node.body)})`;
    case "repeat": {
      const body =
        node.body.kind === "chars" || node.body.kind === "group"
          ? emitRe2Node(node.body)
          : `(?:${emitRe2Node(node.body)})`;
      return body + quantifierText(node.min, node.max, node.lazy);
    }
    case "assertion":
      // `$`/`\Z` become end of text: RE2 has no lookahead for "before a final \n". Dialled
      // strings never contain a line break (cleaning refuses it), so this cannot differ there.
      return node.assertion === "start" ? "^" : "\\z";
    default:
      throw new Error(`internal: ${node.kind} reached the RE2 emitter`);
  }
}

export function emitRe2(parsed: ParsedRegex): EmittedRegex {
  const order = new Map<number, number>();
  for (const g of parsed.groups) order.set(g.order, g.order + 1);
  const body = emitRe2Node(parsed.root);
  return {
    source: parsed.flags.ignoreCase ? `(?i)${body}` : body,
    flags: "",
    groupIndex: groupIndexFor(parsed, order),
  };
}
