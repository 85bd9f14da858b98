// Compiling a .NET pattern once, at load: parse, analyse, then pick the engine.
//
//   * V8's RegExp when the pattern is unambiguous for a backtracking engine (analyze.ts) and
//     V8 reproduces .NET's captures — the fast path, and almost every real dial plan rule;
//   * otherwise re2js, a linear-time RE2 port, so `^(\d+)+$` costs O(n) instead of O(2^n);
//   * otherwise (the pattern needs lookarounds, back references, atomic groups or \b, which
//     RE2 lacks, *and* is ambiguous) a load-time error: no catastrophic pattern reaches calls.
import { RE2JS } from "re2js";
import { type DialPlanError, fail, ok, type Result } from "../errors.js";
import {
  analyzeBacktracking,
  analyzeCaptureFidelity,
  anchoredFirstSet,
  findBacktrackingOnlyConstruct,
  findUnfaithfulBackreference,
} from "./analyze.js";
import type { ParsedRegex } from "./ast.js";
import { CharSet } from "./char-set.js";
import { emitJavaScript, emitRe2 } from "./emit.js";
import { parseDotnetRegex } from "./parse.js";

export type RegexEngine = "native" | "linear";

/** A match, read through .NET group numbers. */
export interface RegexMatch {
  readonly index: number;
  readonly end: number;
  /** The group's last capture; "" for a group that did not participate (as .NET substitutes). */
  group(dotnetNumber: number): string;
}

export interface CompiledRegex {
  readonly pattern: string;
  readonly engine: RegexEngine;
  /** Why the linear-time engine was chosen; undefined on the native engine. */
  readonly linearReason: string | undefined;
  /** The emitted source, for diagnostics. */
  readonly emitted: string;
  readonly groupCount: number;
  readonly groupNumbersByName: ReadonlyMap<string, number>;
  /**
   * False when the input's first character rules a match out (see anchoredFirstSet); true
   * when the pattern may match. A cheap filter in front of test().
   */
  mayMatch(input: string): boolean;
  /** Search semantics: true when the pattern matches anywhere in the input. */
  test(input: string): boolean;
  /** The first match (search semantics), or null. */
  exec(input: string): RegexMatch | null;
}

/** First-character filter: an ASCII bitmap plus one answer for every other character. */
class FirstCharFilter {
  private readonly ascii = new Uint8Array(128);
  private readonly other: boolean;
  constructor(set: CharSet) {
    for (let c = 0; c < 128; c++) this.ascii[c] = set.contains(c) ? 1 : 0;
    this.other = set.intersects(CharSet.range(128, 0xffff));
  }
  static for(parsed: ParsedRegex): FirstCharFilter | null {
    const set = anchoredFirstSet(parsed);
    return set === null ? null : new FirstCharFilter(set);
  }
  mayMatch(input: string): boolean {
    if (input.length === 0) return false;
    const c = input.charCodeAt(0);
    return c < 128 ? this.ascii[c] === 1 : this.other;
  }
}

class NativeMatch implements RegexMatch {
  readonly index: number;
  readonly end: number;
  constructor(
    private readonly m: RegExpExecArray,
    private readonly groupIndex: readonly number[],
  ) {
    this.index = m.index;
    this.end = m.index + m[0].length;
  }
  group(n: number): string {
    return this.m[this.groupIndex[n]!] ?? "";
  }
}

class NativeRegex implements CompiledRegex {
  readonly engine = "native";
  readonly linearReason = undefined;
  readonly groupCount: number;
  readonly groupNumbersByName: ReadonlyMap<string, number>;
  private readonly re: RegExp;
  private readonly filter: FirstCharFilter | null;
  constructor(
    readonly pattern: string,
    readonly emitted: string,
    flags: string,
    private readonly groupIndex: readonly number[],
    parsed: ParsedRegex,
  ) {
    this.re = new RegExp(emitted, flags);
    this.filter = FirstCharFilter.for(parsed);
    this.groupCount = parsed.groupCount;
    this.groupNumbersByName = parsed.groupNumbersByName;
  }
  mayMatch(input: string): boolean {
    return this.filter === null || this.filter.mayMatch(input);
  }
  test(input: string): boolean {
    return this.re.test(input);
  }
  exec(input: string): RegexMatch | null {
    const m = this.re.exec(input);
    return m === null ? null : new NativeMatch(m, this.groupIndex);
  }
}

class LinearMatch implements RegexMatch {
  constructor(
    readonly index: number,
    readonly end: number,
    private readonly groups: readonly (string | null)[],
    private readonly groupIndex: readonly number[],
  ) {}
  group(n: number): string {
    return this.groups[this.groupIndex[n]!] ?? "";
  }
}

class LinearRegex implements CompiledRegex {
  readonly engine = "linear";
  readonly groupCount: number;
  readonly groupNumbersByName: ReadonlyMap<string, number>;
  private readonly re: RE2JS;
  private readonly filter: FirstCharFilter | null;
  constructor(
    readonly pattern: string,
    readonly emitted: string,
    readonly linearReason: string,
    private readonly groupIndex: readonly number[],
    parsed: ParsedRegex,
  ) {
    this.re = RE2JS.compile(emitted);
    this.filter = FirstCharFilter.for(parsed);
    this.groupCount = parsed.groupCount;
    this.groupNumbersByName = parsed.groupNumbersByName;
  }
  mayMatch(input: string): boolean {
    return this.filter === null || this.filter.mayMatch(input);
  }
  test(input: string): boolean {
    return this.re.test(input);
  }
  exec(input: string): RegexMatch | null {
    const m = this.re.matcher(input);
    if (!m.find()) return null;
    const groups: (string | null)[] = [];
    for (let i = 0; i <= this.groupCount; i++) groups.push(m.group(i));
    return new LinearMatch(m.start(0), m.end(0), groups, this.groupIndex);
  }
}

export function compileDotnetRegex(pattern: string): Result<CompiledRegex> {
  const parsed = parseDotnetRegex(pattern);
  if (!parsed.ok) return parsed;
  return compileParsed(pattern, parsed.value);
}

export function compileParsed(pattern: string, parsed: ParsedRegex): Result<CompiledRegex> {
  const badRef = findUnfaithfulBackreference(parsed);
  if (badRef !== null) {
    return fail({
      code: "regex_unsupported_construct",
      message:
        `unsupported back reference ${badRef}: its group may not have captured at that point ` +
        "(.NET then fails the match, JavaScript matches empty); refer only to a group that always matches before it",
      construct: badRef,
    });
  }
  const safety = analyzeBacktracking(parsed);
  const fidelity = analyzeCaptureFidelity(parsed);
  if (safety.ok && fidelity.ok) {
    const js = emitJavaScript(parsed);
    return ok(new NativeRegex(pattern, js.source, js.flags, js.groupIndex, parsed));
  }
  const reason = (safety.ok ? fidelity.reason : safety.reason) ?? "";
  const blocker = findBacktrackingOnlyConstruct(parsed.root);
  if (blocker !== null) {
    const error: DialPlanError = {
      code: safety.ok ? "regex_unsupported_construct" : "regex_catastrophic_backtracking",
      message: safety.ok
        ? `the pattern needs the linear-time engine (${reason}) but uses ${blocker}, which that engine cannot run`
        : `the pattern could backtrack catastrophically (${reason}) and uses ${blocker}, which the linear-time engine cannot run; make every repetition and alternation unambiguous, or remove ${blocker}`,
      construct: blocker,
    };
    return fail(error);
  }
  const re2 = emitRe2(parsed);
  try {
    return ok(new LinearRegex(pattern, re2.source, reason, re2.groupIndex, parsed));
  } catch (err) {
    return fail({
      code: "regex_unsupported_construct",
      message: `the linear-time engine cannot run this pattern: ${(err as Error).message}`,
    });
  }
}
