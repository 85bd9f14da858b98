// Pooled random hex (src/util/random-hex.ts): the right length and alphabet, no repeats across
// pool refills, and sizes larger than the pool still served.
import { describe, expect, it } from "vitest";
import { randomHex } from "../../src/util/random-hex.js";

describe("randomHex", () => {
  it("gives 2 hex characters per byte, and distinct values across several pool refills", () => {
    const seen = new Set<string>();
    // 6 bytes a tag, 4 KiB a pool: ~7 refills.
    for (let i = 0; i < 5_000; i++) {
      const tag = randomHex(6);
      expect(tag).toMatch(/^[0-9a-f]{12}$/);
      seen.add(tag);
    }
    expect(seen.size).toBe(5_000);
  });

  it("serves sizes that straddle the end of the pool and sizes larger than the pool", () => {
    for (let i = 0; i < 200; i++) expect(randomHex(37)).toMatch(/^[0-9a-f]{74}$/);
    expect(randomHex(10_000)).toMatch(/^[0-9a-f]{20000}$/);
  });

  it("does not keep returning one byte value (the pool is filled, not left zeroed)", () => {
    const text = Array.from({ length: 100 }, () => randomHex(8)).join("");
    expect(new Set(text).size).toBe(16);
  });
});
