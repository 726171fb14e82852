import { describe, expect, it } from "vitest";
import { assertJsonCompatible } from "./json-value.js";

// Flat payloads take a fast path that allocates nothing; what it lets through and what it
// refuses (with the path and reason of the full check) must not change.
describe("assertJsonCompatible", () => {
  it("json - flat objects of scalars and scalars themselves pass", () => {
    expect(() => assertJsonCompatible({ a: 1, b: "x", c: true, d: null })).not.toThrow();
    expect(() => assertJsonCompatible(Object.assign(Object.create(null), { a: 1 }))).not.toThrow();
    expect(() => assertJsonCompatible("text")).not.toThrow();
    expect(() => assertJsonCompatible(0)).not.toThrow();
    expect(() => assertJsonCompatible(null)).not.toThrow();
  });

  it("json - a bad field of a flat object is refused with its path", () => {
    const cases: [unknown, RegExp][] = [
      [{ a: Number.NaN }, /\$\.a.*finite/],
      [{ a: undefined }, /\$\.a.*undefined/],
      [{ a: "\ud800" }, /\$\.a.*lone surrogate/],
      [{ a: "x\0y" }, /\$\.a.*NUL/],
      [{ "\ud800": 1 }, /lone surrogate/],
      [{ a: 1n }, /\$\.a.*bigint/],
      [{ a: () => 1 }, /\$\.a.*function/],
      [{ [Symbol("s")]: 1 }, /symbol keys/],
      [new (class Point {})(), /Point instance/],
      [Number.POSITIVE_INFINITY, /finite/],
      ["\0", /NUL/],
    ];
    for (const [value, message] of cases) expect(() => assertJsonCompatible(value), String(message)).toThrow(message);
  });

  it('json - a "__proto__" key is refused (msgpack renames it, Object.assign reads it as the prototype)', () => {
    expect(() => assertJsonCompatible(JSON.parse('{"__proto__": 1}'))).toThrow(/\$\.__proto__.*rename the key/);
    expect(() => assertJsonCompatible(JSON.parse('{"a": [{"__proto__": {"b": 1}}]}'))).toThrow(/\$\.a\[0\]\.__proto__/);
    expect(() => assertJsonCompatible({ proto: 1, __proto: 2 })).not.toThrow();
  });

  it("json - nested data still goes through the full check", () => {
    expect(() => assertJsonCompatible({ a: { b: [1, { c: "d" }] } })).not.toThrow();
    expect(() => assertJsonCompatible({ a: { b: [1, { c: Number.NaN }] } })).toThrow(/\$\.a\.b\[1\]\.c/);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => assertJsonCompatible(cycle)).toThrow(/cycle/);
  });
});
