// The flood guard's bookkeeping with a hand-driven clock: window, ban, ban lifted, allow list.
import { describe, expect, it } from "vitest";
import { FloodGuard } from "../../src/sip/native/flood-guard.js";
import { silentLogger } from "../../src/util/logger.js";

const settings = {
  enabled: true,
  threshold: 3,
  windowSeconds: 2,
  banSeconds: 60,
  scannerUserAgents: ["friendly-scanner", "sipvicious"],
};

function guard(trusted: (a: string) => boolean = () => false) {
  let now = 1_000_000;
  const g = new FloodGuard(settings, trusted, () => now, silentLogger());
  return { g, advance: (ms: number) => (now += ms) };
}

describe("FloodGuard", () => {
  it("admits up to the threshold per window, then bans for banSeconds", () => {
    const { g, advance } = guard();
    expect([1, 2, 3].map(() => g.admit("192.0.2.1"))).toEqual([true, true, true]);
    expect(g.admit("192.0.2.1")).toBe(false);
    expect(g.isBanned("192.0.2.1")).toBe(true);
    // Another source is untouched.
    expect(g.admit("192.0.2.2")).toBe(true);
    advance(59_999);
    expect(g.admit("192.0.2.1")).toBe(false);
    advance(1);
    expect(g.admit("192.0.2.1")).toBe(true);
    expect(g.stats).toMatchObject({ bans: 1, droppedMessages: 2, bannedNow: 0 });
  });

  it("starts a new window after windowSeconds", () => {
    const { g, advance } = guard();
    for (let i = 0; i < 3; i++) expect(g.admit("192.0.2.1")).toBe(true);
    advance(2_000);
    for (let i = 0; i < 3; i++) expect(g.admit("192.0.2.1")).toBe(true);
    expect(g.stats.bans).toBe(0);
  });

  it("never limits or bans a trusted source, but drops a scanner's request from it", () => {
    const { g } = guard((a) => a === "198.51.100.1");
    for (let i = 0; i < 100; i++) expect(g.admit("198.51.100.1")).toBe(true);
    expect(g.refuseUserAgent("Polycom/5.1", "198.51.100.1")).toBe(false);
    expect(g.refuseUserAgent("friendly-scanner", "198.51.100.1")).toBe(true);
    expect(g.isBanned("198.51.100.1")).toBe(false);
    expect(g.admit("198.51.100.1")).toBe(true);
    expect(g.stats).toMatchObject({ scannerRequests: 1, bans: 0 });
  });

  it("re-judges known sources when the allow list changes, keeping the others' counts", () => {
    const { g } = guard();
    for (let i = 0; i < 4; i++) g.admit("192.0.2.1");
    expect(g.isBanned("192.0.2.1")).toBe(true);
    for (let i = 0; i < 3; i++) g.admit("192.0.2.2");
    // A DNS answer names 192.0.2.1 as a gateway's: its ban ends and it is never counted again.
    g.retrust((a) => a === "192.0.2.1");
    expect(g.isBanned("192.0.2.1")).toBe(false);
    for (let i = 0; i < 100; i++) expect(g.admit("192.0.2.1")).toBe(true);
    // 192.0.2.2 kept its count: its fourth message in the window bans it.
    expect(g.admit("192.0.2.2")).toBe(false);
    // And a gateway that DNS no longer names is counted again from its next message.
    g.retrust(() => false);
    expect([1, 2, 3].map(() => g.admit("192.0.2.1"))).toEqual([true, true, true]);
    expect(g.admit("192.0.2.1")).toBe(false);
  });

  it("refuses scanner user agents case-insensitively and bans their source", () => {
    const { g } = guard();
    expect(g.refuseUserAgent("Polycom/5.1", "192.0.2.9")).toBe(false);
    expect(g.refuseUserAgent("SIPVicious 0.3", "192.0.2.9")).toBe(true);
    expect(g.isBanned("192.0.2.9")).toBe(true);
    expect(g.stats).toMatchObject({ scannerRequests: 1, bans: 1 });
  });

  it("keeps bans across a reload unless the source becomes allowed", () => {
    const { g } = guard();
    for (let i = 0; i < 4; i++) g.admit("192.0.2.1");
    for (let i = 0; i < 4; i++) g.admit("192.0.2.2");
    g.update(settings, (a) => a === "192.0.2.2");
    expect(g.isBanned("192.0.2.1")).toBe(true);
    expect(g.admit("192.0.2.2")).toBe(true);
  });
});
