// X-RTP-Stat / P-RTP-Stat on a BYE: vendor key=value lists, parsed defensively.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRtpStatHeader } from "../../src/calls/rtp-stat.js";

describe("RTP statistics headers", () => {
  it("reads the two-letter format (`,`-separated) and computes the loss rate", () => {
    const q = parseRtpStatHeader(
      "P-RTP-Stat",
      "PS=1000,OS=160000,PR=998,OR=159680,PL=2,JI=12,LA=35,DU=20,EN=PCMA",
      "callee",
    );
    expect(q).toEqual({
      reporter: "callee",
      source: "P-RTP-Stat",
      packetsSent: 1000,
      packetsReceived: 998,
      packetsLost: 2,
      packetLossRate: 0.002,
      jitterMs: 12,
      roundTripMs: 35,
      mosLq: null,
      codec: "PCMA",
      raw: { OS: "160000", OR: "159680", DU: "20" },
    });
  });

  it("reads `;`-separated word keys, lists (`PL=2,0`, `JI=10/12`) and a MOS", () => {
    const q = parseRtpStatHeader(
      "X-RTP-Stat",
      "CS=0;PS=1433;PR=1522;PL=3,0;JI=10/12;packet_loss_rate=0.5;MOS=4.3;codec=G722",
      "caller",
    );
    expect(q).toMatchObject({
      packetsSent: 1433,
      packetsReceived: 1522,
      packetsLost: 3,
      jitterMs: 10,
      packetLossRate: 0.5,
      mosLq: 4.3,
      codec: "G722",
    });
  });

  it("ignores bad values (negative, non-numeric, MOS out of 1..5) and keeps unknown keys raw", () => {
    const q = parseRtpStatHeader("X-RTP-Stat", "PS=-5,PR=abc,PL=1e9999,MOS=9,JI=NaN,VENDOR=x y", "caller");
    expect(q).toMatchObject({
      packetsSent: null,
      packetsReceived: null,
      packetsLost: null,
      mosLq: null,
      jitterMs: null,
      raw: { VENDOR: "x y" },
    });
  });

  it("returns null when there is no key=value pair at all", () => {
    expect(parseRtpStatHeader("X-RTP-Stat", "garbage without pairs", "caller")).toBeNull();
    expect(parseRtpStatHeader("X-RTP-Stat", "", "caller")).toBeNull();
  });

  it("never throws and never yields an out-of-range number, whatever the header holds", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), (value) => {
        const q = parseRtpStatHeader("X-RTP-Stat", value, "caller");
        if (q === null) return;
        for (const n of [q.packetsSent, q.packetsReceived, q.packetsLost, q.jitterMs, q.roundTripMs])
          expect(n === null || (Number.isFinite(n) && n >= 0)).toBe(true);
        expect(q.mosLq === null || (q.mosLq >= 1 && q.mosLq <= 5)).toBe(true);
        expect(q.packetLossRate === null || (q.packetLossRate >= 0 && q.packetLossRate <= 1)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
