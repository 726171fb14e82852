import { afterEach, describe, expect, it, vi } from "vitest";
import { newEventId } from "./event-ids.js";

const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]{26}$/;

function timeOf(id: string): number {
  let time = 0;
  for (const char of id.slice(0, 10)) time = time * 32 + "0123456789ABCDEFGHJKMNPQRSTVWXYZ".indexOf(char);
  return time;
}

describe("event ids", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("event ids - are ULIDs carrying the current millisecond", () => {
    const before = Date.now();
    const id = newEventId();
    const after = Date.now();
    expect(id).toMatch(CROCKFORD);
    expect(timeOf(id)).toBeGreaterThanOrEqual(before);
    expect(timeOf(id)).toBeLessThanOrEqual(after);
  });

  it("event ids - strictly increase within one millisecond and while the clock goes back", () => {
    // Given a clock stuck on one millisecond, then stepped back
    const now = vi.spyOn(Date, "now").mockReturnValue(Date.UTC(2030, 0, 1));
    const ids = Array.from({ length: 5_000 }, () => newEventId());
    now.mockReturnValue(Date.UTC(2029, 0, 1));
    ids.push(...Array.from({ length: 100 }, () => newEventId()));
    // Then every id sorts after the one before it, all carry the latest time seen
    for (let i = 1; i < ids.length; i++) expect((ids[i] as string) > (ids[i - 1] as string)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(timeOf(ids.at(-1) as string)).toBe(Date.UTC(2030, 0, 1));
  });

  it("event ids - a new millisecond starts from fresh random bits", () => {
    const now = vi.spyOn(Date, "now").mockReturnValue(Date.UTC(2031, 0, 1));
    const a = newEventId();
    now.mockReturnValue(Date.UTC(2031, 0, 1) + 1);
    const b = newEventId();
    expect(b > a).toBe(true);
    expect(b.slice(10)).not.toBe(a.slice(10));
  });
});
