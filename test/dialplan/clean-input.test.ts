import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cleanDialledInput } from "../../src/dialplan/index.js";

const clean = (s: string) => {
  const r = cleanDialledInput(s);
  return r.ok ? r.value : r.error.code;
};

describe("cleaning dialled input", () => {
  it("removes visual separators", () => {
    expect(clean("+1 (425) 555-01.00")).toEqual({ number: "+14255550100", extension: null });
  });

  it("strips tel: and sip: wrappers down to the user part", () => {
    expect(clean("tel:+1-425-555-0100")).toEqual({ number: "+14255550100", extension: null });
    expect(clean("sip:+14255550100@sbc.contoso.com;user=phone")).toEqual({
      number: "+14255550100",
      extension: null,
    });
    expect(clean("tel:0100;phone-context=example.com")).toEqual({ number: "0100", extension: null });
    expect(clean("SIP:5550100@contoso.com")).toEqual({ number: "5550100", extension: null });
  });

  it("maps Unicode decimal digits to ASCII", () => {
    expect(clean("٠١٢٣٤٥٦٧٨٩")).toEqual({ number: "0123456789", extension: null });
    expect(clean("１２３")).toEqual({ number: "123", extension: null });
    expect(clean("۹۸")).toEqual({ number: "98", extension: null });
    expect(clean("𝟘𝟙𝟡")).toEqual({ number: "019", extension: null });
  });

  it("keeps one ;ext= suffix of 1-12 digits", () => {
    expect(clean("+14255550101;ext=0101")).toEqual({ number: "+14255550101", extension: "0101" });
    expect(clean("tel:+14255550101;ext=0101")).toEqual({ number: "+14255550101", extension: "0101" });
    expect(clean("1;ext=")).toBe("input_invalid_character");
    expect(clean("1;ext=1;ext=2")).toBe("input_invalid_character");
    expect(clean("1;foo=2")).toBe("input_invalid_character");
  });

  it("keeps * and # for feature codes", () => {
    expect(clean("*67#")).toEqual({ number: "*67#", extension: null });
  });

  it("rejects other characters, a + that is not first, empty input and input over 64 characters", () => {
    expect(clean("12a")).toBe("input_invalid_character");
    expect(clean("1\n")).toBe("input_invalid_character");
    expect(clean("1+2")).toBe("input_invalid_character");
    expect(clean("")).toBe("input_empty");
    expect(clean("( )")).toBe("input_empty");
    expect(clean("1".repeat(64))).toEqual({ number: "1".repeat(64), extension: null });
    expect(clean("1".repeat(65))).toBe("input_too_long");
    expect(clean("1".repeat(5000))).toBe("input_too_long");
  });

  it("gives input that needs no cleaning the same answer as input that does", () => {
    // Already-clean strings take a shortcut (no scheme match, no copy); wrapping one in
    // separators forces the full path, which must agree on every value and error code.
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9*#+]{0,66}$/), (s) => {
        expect(clean(s)).toEqual(clean(`(${s})`));
      }),
      { numRuns: 500, seed: 20261123 },
    );
    expect(clean("+")).toBe("input_empty");
    expect(clean("++1")).toBe("input_invalid_character");
    expect(clean(`+${"1".repeat(63)}`)).toEqual({ number: `+${"1".repeat(63)}`, extension: null });
    expect(clean(`+${"1".repeat(64)}`)).toBe("input_too_long");
  });
});
