// Load-time analysis of a parsed .NET pattern: can a backtracking engine (V8's RegExp) run it
// in time bounded by a small polynomial of the input, and does V8 reproduce .NET's captures?
//
// Backtracking safety is decided by one-character-lookahead determinism (the LL(1) condition
// on the pattern read as a grammar): at every choice the engine makes — another iteration of a
// variable repetition or leaving it, which alternation branch to take — the next input
// character must rule out all options but one. Then a failed option dies after a bounded
// number of steps without consuming input, so one match attempt is O(n·m) and a search over
// all start positions O(n²·m): a few thousand steps for a 64-character dialled string, instead
// of the 2^64 of `^(\d+)+$`. The test is conservative: a pattern that fails it is not
// necessarily slow, it is just run on the linear-time engine instead (see compile.ts).
import type { ParsedRegex, RegexNode } from "./ast.js";
import { CharSet } from "./char-set.js";

export interface Verdict {
  readonly ok: boolean;
  /** Why not, naming the part of the pattern at fault. */
  readonly reason?: string;
}

const SAFE: Verdict = { ok: true };

interface Summary {
  /** Characters a match of the node can start with. */
  readonly first: CharSet;
  /** Whether the node can match the empty string. */
  readonly nullable: boolean;
}

class Unsafe {
  constructor(readonly reason: string) {}
}

class Analysis {
  private readonly memo = new Map<RegexNode, Summary>();

  constructor(private readonly ignoreCase: boolean) {}

  summary(node: RegexNode): Summary {
    const hit = this.memo.get(node);
    if (hit) return hit;
    const s = this.compute(node);
    this.memo.set(node, s);
    return s;
  }

  private compute(node: RegexNode): Summary {
    switch (node.kind) {
      case "empty":
      case "assertion":
        return { first: CharSet.EMPTY, nullable: true };
      case "chars":
        return { first: this.ignoreCase ? node.set.caseClosed() : node.set, nullable: false };
      case "sequence": {
        let first = CharSet.EMPTY;
        for (const item of node.items) {
          const s = this.summary(item);
          first = first.union(s.first);
          if (!s.nullable) return { first, nullable: false };
        }
        return { first, nullable: true };
      }
      case "alternation": {
        let first = CharSet.EMPTY;
        let nullable = false;
        for (const b of node.branches) {
          const s = this.summary(b);
          first = first.union(s.first);
          nullable ||= s.nullable;
        }
        return { first, nullable };
      }
      case "group":
      case "atomic":
        return this.summary(node.body);
      case "repeat": {
        const s = this.summary(node.body);
        return { first: s.first, nullable: node.min === 0 || s.nullable };
      }
      // A lookaround or back reference in the continuation of a choice could make the losing
      // option do unbounded work before failing; counting them as "may start with anything"
      // forces every choice before them to be unambiguous on its own.
      case "lookaround":
      case "backreference":
        return { first: CharSet.ALL, nullable: true };
    }
  }

  /** Throws Unsafe when a choice inside `node` is ambiguous given what may follow it. */
  check(node: RegexNode, follow: CharSet): void {
    switch (node.kind) {
      case "sequence": {
        let f = follow;
        for (let i = node.items.length - 1; i >= 0; i--) {
          const item = node.items[i]!;
          this.check(item, f);
          const s = this.summary(item);
          f = s.nullable ? s.first.union(f) : s.first;
        }
        return;
      }
      case "alternation": {
        const sums = node.branches.map((b) => this.summary(b));
        let nullableCount = 0;
        for (let i = 0; i < sums.length; i++) {
          const si = sums[i]!;
          if (si.nullable) nullableCount++;
          for (let j = i + 1; j < sums.length; j++) {
            if (si.first.intersects(sums[j]!.first))
              throw new Unsafe(
                `alternation branches ${i + 1} and ${j + 1} can start with the same character`,
              );
          }
          if (si.nullable) {
            sums.forEach((sj, j) => {
              if (j !== i && sj.first.intersects(follow))
                throw new Unsafe(
                  `alternation branch ${i + 1} can match empty and branch ${j + 1} starts with a character that can also follow the alternation`,
                );
            });
          }
        }
        if (nullableCount > 1) throw new Unsafe("more than one alternation branch can match empty");
        for (const b of node.branches) this.check(b, follow);
        return;
      }
      case "group":
        this.check(node.body, follow);
        return;
      case "atomic":
        // Once an atomic group is left, nothing backtracks into it.
        this.check(node.body, CharSet.EMPTY);
        return;
      case "repeat": {
        const body = this.summary(node.body);
        if (node.min !== node.max) {
          if (body.nullable)
            throw new Unsafe(
              `a repeated part ({${node.min},${fmtMax(node.max)}}) can match the empty string`,
            );
          if (body.first.intersects(follow))
            throw new Unsafe(
              `a repetition ({${node.min},${fmtMax(node.max)}}) can either continue or stop on the same character`,
            );
        }
        this.check(node.body, node.max > 1 ? body.first.union(follow) : follow);
        return;
      }
      case "lookaround":
        if (hasVariableRepeat(node.body))
          throw new Unsafe("a lookaround contains a variable repetition (its work is not bounded)");
        this.check(node.body, CharSet.EMPTY);
        return;
      case "empty":
      case "chars":
      case "assertion":
      case "backreference":
        return;
    }
  }
}

function fmtMax(max: number): string {
  return max === Number.POSITIVE_INFINITY ? "" : String(max);
}

function hasVariableRepeat(node: RegexNode): boolean {
  switch (node.kind) {
    case "repeat":
      return node.min !== node.max || hasVariableRepeat(node.body);
    case "sequence":
      return node.items.some(hasVariableRepeat);
    case "alternation":
      return node.branches.some(hasVariableRepeat);
    case "group":
    case "atomic":
    case "lookaround":
      return hasVariableRepeat(node.body);
    default:
      return false;
  }
}

/** Whether V8's backtracking engine can run the pattern without catastrophic backtracking. */
export function analyzeBacktracking(parsed: ParsedRegex): Verdict {
  try {
    new Analysis(parsed.flags.ignoreCase).check(parsed.root, CharSet.EMPTY);
    return SAFE;
  } catch (err) {
    if (err instanceof Unsafe) return { ok: false, reason: err.reason };
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Capture fidelity.

/**
 * Groups (by order of appearance) that have certainly captured once `node` has matched,
 * given those that had before it.
 */
function definitelyCaptured(node: RegexNode, before: ReadonlySet<number>): ReadonlySet<number> {
  switch (node.kind) {
    case "sequence": {
      let acc = before;
      for (const item of node.items) acc = definitelyCaptured(item, acc);
      return acc;
    }
    case "alternation": {
      const outs = node.branches.map((b) => definitelyCaptured(b, before));
      return new Set([...outs[0]!].filter((g) => outs.every((o) => o.has(g))));
    }
    case "group": {
      const inner = definitelyCaptured(node.body, before);
      return node.capture === null ? inner : new Set([...inner, node.capture.order]);
    }
    case "atomic":
      return definitelyCaptured(node.body, before);
    case "repeat":
      return node.min > 0 ? definitelyCaptured(node.body, before) : before;
    case "lookaround":
      return node.negate ? before : definitelyCaptured(node.body, before);
    default:
      return before;
  }
}

function capturesIn(node: RegexNode, out: Set<number>): Set<number> {
  switch (node.kind) {
    case "group":
      if (node.capture !== null) out.add(node.capture.order);
      return capturesIn(node.body, out);
    case "sequence":
      for (const i of node.items) capturesIn(i, out);
      return out;
    case "alternation":
      for (const b of node.branches) capturesIn(b, out);
      return out;
    case "repeat":
    case "atomic":
    case "lookaround":
      return capturesIn(node.body, out);
    default:
      return out;
  }
}

/**
 * JavaScript clears the captures inside a repeated part at the start of every iteration
 * (ECMA-262 RepeatMatcher); .NET keeps the last capture a group made. They differ when a group
 * inside a repetition can sit out a later iteration, e.g. `(?:(a)|b)+` on "ab": .NET's $1 is
 * "a", V8's is empty. Such patterns run on the linear-time engine, which keeps last captures.
 */
export function analyzeCaptureFidelity(parsed: ParsedRegex): Verdict {
  let reason: string | undefined;
  const visit = (node: RegexNode): void => {
    if (reason !== undefined) return;
    switch (node.kind) {
      case "repeat":
        if (node.max > 1) {
          const sure = definitelyCaptured(node.body, new Set());
          for (const g of capturesIn(node.body, new Set())) {
            if (!sure.has(g)) {
              reason = `capture group ${groupLabel(parsed, g)} sits inside a repetition it may skip in a later iteration`;
              return;
            }
          }
        }
        visit(node.body);
        return;
      case "sequence":
        node.items.forEach(visit);
        return;
      case "alternation":
        node.branches.forEach(visit);
        return;
      case "group":
      case "atomic":
      case "lookaround":
        visit(node.body);
        return;
      default:
        return;
    }
  };
  visit(parsed.root);
  return reason === undefined ? SAFE : { ok: false, reason };
}

function groupLabel(parsed: ParsedRegex, order: number): string {
  const g = parsed.groups[order]!;
  return g.name === null ? `$${g.number}` : `'${g.name}'`;
}

/**
 * A back reference to a group that has not captured fails in .NET but matches the empty
 * string in JavaScript. Only references to groups that have certainly captured at that point
 * can be translated; returns the first offending reference, as written.
 */
export function findUnfaithfulBackreference(parsed: ParsedRegex): string | null {
  let found: string | null = null;
  const walk = (node: RegexNode, before: ReadonlySet<number>): ReadonlySet<number> => {
    switch (node.kind) {
      case "backreference": {
        const g = node.ref.group;
        if (found === null && (g === null || !before.has(g.order))) found = node.ref.source;
        return before;
      }
      case "sequence": {
        let acc = before;
        for (const i of node.items) acc = walk(i, acc);
        return acc;
      }
      case "alternation":
        for (const b of node.branches) walk(b, before);
        return definitelyCaptured(node, before);
      case "group":
      case "atomic":
      case "lookaround":
        walk(node.body, before);
        return definitelyCaptured(node, before);
      case "repeat":
        walk(node.body, before);
        return definitelyCaptured(node, before);
      default:
        return before;
    }
  };
  walk(parsed.root, new Set());
  return found;
}

/** Constructs the linear-time engine (RE2) cannot run, or null. */
export function findBacktrackingOnlyConstruct(node: RegexNode): string | null {
  switch (node.kind) {
    case "lookaround":
      return node.behind ? (node.negate ? "(?<!…)" : "(?<=…)") : node.negate ? "(?!…)" : "(?=…)";
    case "atomic":
      return "(?>…)";
    case "backreference":
      return node.ref.source;
    case "assertion":
      return node.assertion === "wordBoundary" ? "\\b" : node.assertion === "notWordBoundary" ? "\\B" : null;
    case "sequence":
      for (const i of node.items) {
        const c = findBacktrackingOnlyConstruct(i);
        if (c !== null) return c;
      }
      return null;
    case "alternation":
      for (const b of node.branches) {
        const c = findBacktrackingOnlyConstruct(b);
        if (c !== null) return c;
      }
      return null;
    case "group":
    case "repeat":
      return findBacktrackingOnlyConstruct(node.body);
    default:
      return null;
  }
}

/**
 * For a pattern anchored at the start (`^…`, `\A…`) whose match must consume a character, the
 * characters that first one can be; null otherwise. Lets the dial plan loop skip a rule on the
 * first character of the input without calling into the regex engine (a sound filter: a rule
 * it skips could not have matched).
 */
export function anchoredFirstSet(parsed: ParsedRegex): CharSet | null {
  const root = parsed.root;
  if (root.kind !== "sequence") return null;
  const [head, ...rest] = root.items;
  if (head?.kind !== "assertion" || head.assertion !== "start") return null;
  const s = new Analysis(parsed.flags.ignoreCase).summary({ kind: "sequence", items: rest });
  return s.nullable ? null : s.first;
}
