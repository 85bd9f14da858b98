import { describe, expect, it } from "vitest";
import { keepBytes, keptToBytes } from "../../src/sip/native/kept-bytes.js";

describe("kept bytes (a final response held through Timer J)", () => {
  it("gives back every byte value exactly, UTF-8 text included", () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(keptToBytes(keepBytes(all)).equals(all)).toBe(true);
    const utf8 = Buffer.from("SIP/2.0 200 Très bien ✓\r\n\r\n", "utf8");
    expect(keptToBytes(keepBytes(utf8)).equals(utf8)).toBe(true);
  });

  it("copies only the slice it is given, not the pool slab around it", () => {
    const slab = Buffer.from("xxxxSIP/2.0 200 OKyyyy", "latin1");
    const slice = slab.subarray(4, 18);
    const kept = keepBytes(slice);
    expect(kept).toBe("SIP/2.0 200 OK");
    slab.fill(0x7a);
    expect(keptToBytes(kept).toString("latin1")).toBe("SIP/2.0 200 OK");
  });
});
