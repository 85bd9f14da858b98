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
  findBacktrackingOnlyConstruct,
  findUnfaithfulBackreference,
} from "./analyze.js";
import type { ParsedRegex } from "./ast.js";
import { emitJavaScript, emitRe2 } from "./emit.js";
import { parseDotnetRegex } from "./parse.js";
import { MatchPrefilter } from "./prefilter.js";

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
   * False when the input's length or first character rules a match out (prefilter.ts); true
   * when the pattern may match. A cheap filter in front of test() and exec(), which do not
   * apply it themselves.
   */
  mayMatch(input: string): boolean;
  /** Search semantics: true when the pattern matches anywhere in the input. */
  test(input: string): boolean;
  /** The first match (search semantics), or null. */
  exec(input: string): RegexMatch | null;
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
  private readonly filter: MatchPrefilter;
  constructor(
    readonly pattern: string,
    readonly emitted: string,
    flags: string,
    private readonly groupIndex: readonly number[],
    parsed: ParsedRegex,
  ) {
    this.re = new RegExp(emitted, flags);
    this.filter = new MatchPrefilter(parsed, "native");
    this.groupCount = parsed.groupCount;
    this.groupNumbersByName = parsed.groupNumbersByName;
  }
  mayMatch(input: string): boolean {
    return this.filter.mayMatch(input);
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
  readonly index: number;
  readonly end: number;
  /** RE2 submatch positions: [start0, end0, start1, end1, …], -1 for a group that sat out. */
  constructor(
    private readonly at: readonly number[],
    private readonly input: string,
    private readonly groupIndex: readonly number[],
  ) {
    this.index = at[0]!;
    this.end = at[1]!;
  }
  group(n: number): string {
    const i = 2 * this.groupIndex[n]!;
    const start = this.at[i]!;
    return start < 0 ? "" : this.input.slice(start, this.at[i + 1]!);
  }
}

class LinearRegex implements CompiledRegex {
  readonly engine = "linear";
  readonly groupCount: number;
  readonly groupNumbersByName: ReadonlyMap<string, number>;
  private readonly re: RE2JS;
  private readonly filter: MatchPrefilter;
  constructor(
    readonly pattern: string,
    readonly emitted: string,
    readonly linearReason: string,
    private readonly groupIndex: readonly number[],
    parsed: ParsedRegex,
  ) {
    this.re = RE2JS.compile(emitted);
    this.filter = new MatchPrefilter(parsed, "linear");
    this.groupCount = parsed.groupCount;
    this.groupNumbersByName = parsed.groupNumbersByName;
  }
  mayMatch(input: string): boolean {
    return this.filter.mayMatch(input);
  }
  test(input: string): boolean {
    return this.re.test(input);
  }
  exec(input: string): RegexMatch | null {
    // re2js answers test() with its DFA, which tracks no groups and rejects several times
    // faster than a capturing run; a match then costs one capturing run for all groups
    // (findSubmatchIndex), where Matcher.find() + group() would run the pattern twice more.
    if (!this.re.test(input)) return null;
    const at: readonly number[] | null = this.re.re2().findSubmatchIndex(input);
    return at === null ? null : new LinearMatch(at, input, this.groupIndex);
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
