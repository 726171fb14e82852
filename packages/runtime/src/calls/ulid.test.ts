import { decodeTime, isValid, monotonicFactory } from "ulid";
import { describe, expect, it } from "vitest";
import { ulidFactory } from "./ulid.js";

describe("ulid", () => {
  it("ulid - ids are valid ULIDs whose time part is the clock's millisecond", () => {
    const id = ulidFactory(() => 1_700_000_000_123)();
    expect(id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    expect(isValid(id)).toBe(true);
    expect(decodeTime(id)).toBe(1_700_000_000_123);
  });

  it("ulid - within one millisecond, and when the clock goes back, each id is the previous one plus one", () => {
    let now = 1_000;
    const next = ulidFactory(() => now);
    const ids = [next(), next(), next()];
    now = 999; // the clock went back: still after the previous id
    ids.push(next());
    now = 1_001;
    ids.push(next());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(decodeTime(ids[3] as string)).toBe(1_000);
    expect(decodeTime(ids[4] as string)).toBe(1_001);
    // The same rule as the ulid package's monotonic factory: the random part grows by one.
    const reference = monotonicFactory(() => 0.5);
    const a = reference(1_000);
    expect(reference(1_000) > a).toBe(true);
  });

  it("ulid - the increment carries across base-32 digits", () => {
    const next = ulidFactory(() => 5);
    let previous = next();
    for (let i = 0; i < 5_000; i++) {
      const id = next();
      expect(id > previous).toBe(true);
      previous = id;
    }
  });

  it("ulid - refuses a time a ULID cannot hold", () => {
    expect(() => ulidFactory(() => 2 ** 48)()).toThrow(/out of range/);
    expect(() => ulidFactory(() => -1)()).toThrow(/out of range/);
  });
});
