import { describe, expect, it } from "vitest";
import { delay, monotonicNow, systemClock } from "./clock.js";
import { ManualClock } from "./manual-clock.js";

describe("clocks", () => {
  it("ManualClock - nextDue names the earliest pending timer, so a test can step from one to the next", () => {
    const clock = new ManualClock(1_000);
    const fired: string[] = [];
    expect(clock.nextDue).toBeUndefined();
    clock.setTimeout(() => fired.push("late"), 300);
    const early = clock.setTimeout(() => fired.push("early"), 100);
    clock.setTimeout(() => fired.push("middle"), 200);
    expect(clock.nextDue).toBe(1_100);

    clock.clearTimeout(early);
    expect(clock.nextDue).toBe(1_200);
    clock.advance(clock.nextDue! - clock.now());
    expect(fired).toEqual(["middle"]);
    expect(clock.nextDue).toBe(1_300);
  });

  it("delay - resolves after the clock's time, not real time", async () => {
    const clock = new ManualClock();
    let done = false;
    const waiting = delay(clock, 5_000).then(() => {
      done = true;
    });
    clock.advance(4_999);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1);
    await waiting;
    expect(done).toBe(true);
  });

  it("monotonicNow - the system clock's monotonic reading, a ManualClock's now", () => {
    expect(monotonicNow(new ManualClock(42))).toBe(42);
    const before = performance.now();
    expect(monotonicNow(systemClock)).toBeGreaterThanOrEqual(before);
  });
});
