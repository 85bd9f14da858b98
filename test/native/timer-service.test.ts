// Node's timers behind the TimerService port (timer-service.ts): the count of armed timers is
// what leak tests and metrics read, so it must stay exact through fires, clears and shutdown.
import { describe, expect, it } from "vitest";
import { SystemTimerService } from "../../src/sip/native/timer-service.js";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("SystemTimerService", () => {
  it("counts armed timers through fires and clears, in any order", async () => {
    const timers = new SystemTimerService();
    const fired: number[] = [];
    const handles = [0, 1, 2, 3, 4].map((i) => timers.set(5 + i, () => fired.push(i)));
    expect(timers.activeCount).toBe(5);
    timers.clear(handles[2] ?? null); // the middle of the list
    timers.clear(handles[4] ?? null); // its head (armed last)
    timers.clear(handles[2] ?? null); // twice: nothing
    expect(timers.activeCount).toBe(3);
    await tick(40);
    expect(fired.sort()).toEqual([0, 1, 3]);
    expect(timers.activeCount).toBe(0);
    timers.clear(handles[0] ?? null); // already fired: nothing
    timers.clear(null);
    expect(timers.activeCount).toBe(0);
  });

  it("disarms everything on clearAll, and later clears of its handles do nothing", async () => {
    const timers = new SystemTimerService();
    let fired = 0;
    const handles = Array.from({ length: 100 }, () => timers.set(5, () => fired++));
    timers.clearAll();
    expect(timers.activeCount).toBe(0);
    for (const h of handles) timers.clear(h);
    expect(timers.activeCount).toBe(0);
    const again = timers.set(5, () => fired++);
    expect(timers.activeCount).toBe(1);
    await tick(30);
    expect(fired).toBe(1);
    timers.clear(again);
    expect(timers.activeCount).toBe(0);
  });
});
