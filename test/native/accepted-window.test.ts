// The compact RFC 6026 Accepted window (accepted-window.ts): every entry lives at least 64*T1
// (Timer L and M) and at most one tick (64*T1/32) longer, and its sweep timer is armed only
// while entries are there.
import { describe, expect, it } from "vitest";
import { AcceptedWindow } from "../../src/sip/native/accepted-window.js";
import { silentLogger } from "../../src/util/logger.js";
import { ManualTimerService } from "../support/manual-timer-service.js";

const LIFETIME = 32_000; // 64*T1 at the default T1
const upstream = { reliable: false, send: () => {} };

describe("the Accepted window", () => {
  it("keeps an entry for 64*T1 and one tick at most, then disarms its sweep", () => {
    const timers = new ManualTimerService();
    const window = new AcceptedWindow(timers, LIFETIME, silentLogger());
    expect(timers.activeCount).toBe(0);
    window.add("s1", "c1", upstream, null);
    expect(window.size).toBe(1);
    expect(window.hasServer("s1") && window.findClient("c1") !== undefined).toBe(true);
    timers.advance(LIFETIME - 1);
    expect(window.hasServer("s1")).toBe(true);
    timers.advance(1_001); // 64*T1 and one tick
    expect(window.hasServer("s1")).toBe(false);
    expect(window.findClient("c1")).toBeUndefined();
    expect(window.size).toBe(0);
    expect(timers.activeCount).toBe(0);
  });

  it("never lets an entry go before 64*T1, whatever the tick it arrived in", () => {
    const timers = new ManualTimerService();
    const window = new AcceptedWindow(timers, LIFETIME, silentLogger());
    window.add("first", "cf", upstream, null); // arms the sweep
    const born = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      timers.advance(137);
      window.add(`s${i}`, `c${i}`, upstream, null);
      born.set(`s${i}`, timers.now);
    }
    for (let t = 0; t < 40_000; t += 50) {
      timers.advance(50);
      for (const [key, at] of born) {
        const age = timers.now - at;
        if (age < LIFETIME) expect(window.hasServer(key)).toBe(true);
        if (age > LIFETIME + 1_000) expect(window.hasServer(key)).toBe(false);
      }
    }
    expect(window.size).toBe(0);
    expect(timers.activeCount).toBe(0);
  });
});
