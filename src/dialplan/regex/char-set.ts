// Sets of UTF-16 code units as sorted, disjoint, inclusive ranges. .NET regexes match UTF-16
// code units (a surrogate pair is two characters), and so does a JavaScript RegExp without the
// `u` flag, so this is the alphabet both the safety analysis and the emitters work in.

export const MAX_CODE_UNIT = 0xffff;

export class CharSet {
  /** Flat [lo0, hi0, lo1, hi1, ...], sorted and disjoint, non-adjacent. */
  readonly ranges: readonly number[];

  private constructor(ranges: readonly number[]) {
    this.ranges = ranges;
  }

  static readonly EMPTY = new CharSet([]);
  static readonly ALL = new CharSet([0, MAX_CODE_UNIT]);

  static of(...codes: number[]): CharSet {
    return CharSet.fromRanges(codes.flatMap((c) => [c, c]));
  }

  static range(lo: number, hi: number): CharSet {
    return CharSet.fromRanges([lo, hi]);
  }

  /** Normalizes any list of (possibly overlapping) ranges. */
  static fromRanges(flat: readonly number[]): CharSet {
    const pairs: [number, number][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
    pairs.sort((a, b) => a[0] - b[0]);
    const out: number[] = [];
    for (const [lo, hi] of pairs) {
      const last = out.length - 1;
      if (last >= 0 && lo <= out[last]! + 1) out[last] = Math.max(out[last]!, hi);
      else out.push(lo, hi);
    }
    return new CharSet(out);
  }

  union(other: CharSet): CharSet {
    if (other.ranges.length === 0) return this;
    if (this.ranges.length === 0) return other;
    return CharSet.fromRanges([...this.ranges, ...other.ranges]);
  }

  complement(): CharSet {
    const out: number[] = [];
    let next = 0;
    for (let i = 0; i < this.ranges.length; i += 2) {
      const lo = this.ranges[i]!;
      if (lo > next) out.push(next, lo - 1);
      next = this.ranges[i + 1]! + 1;
    }
    if (next <= MAX_CODE_UNIT) out.push(next, MAX_CODE_UNIT);
    return new CharSet(out);
  }

  intersects(other: CharSet): boolean {
    let i = 0;
    let j = 0;
    const a = this.ranges;
    const b = other.ranges;
    while (i < a.length && j < b.length) {
      if (a[i + 1]! < b[j]!) i += 2;
      else if (b[j + 1]! < a[i]!) j += 2;
      else return true;
    }
    return false;
  }

  isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  size(): number {
    let n = 0;
    for (let i = 0; i < this.ranges.length; i += 2) n += this.ranges[i + 1]! - this.ranges[i]! + 1;
    return n;
  }

  /** The single code unit this set holds, or null. */
  single(): number | null {
    return this.ranges.length === 2 && this.ranges[0] === this.ranges[1] ? this.ranges[0]! : null;
  }

  contains(code: number): boolean {
    for (let i = 0; i < this.ranges.length; i += 2) {
      if (code < this.ranges[i]!) return false;
      if (code <= this.ranges[i + 1]!) return true;
    }
    return false;
  }

  equals(other: CharSet): boolean {
    return this.ranges.length === other.ranges.length && this.ranges.every((v, i) => v === other.ranges[i]);
  }

  /**
   * The set closed under simple case mapping, for the analysis of case-insensitive patterns.
   * Large sets are widened to everything: the analysis only needs an over-approximation.
   */
  caseClosed(): CharSet {
    if (this.size() > 4096) return CharSet.ALL;
    const extra: number[] = [];
    for (let i = 0; i < this.ranges.length; i += 2) {
      for (let c = this.ranges[i]!; c <= this.ranges[i + 1]!; c++) {
        const ch = String.fromCharCode(c);
        for (const mapped of [ch.toLowerCase(), ch.toUpperCase()]) {
          if (mapped.length === 1) extra.push(mapped.charCodeAt(0), mapped.charCodeAt(0));
        }
      }
    }
    return this.union(CharSet.fromRanges(extra));
  }
}
