import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SubjectPattern } from "./subject-pattern.js";

/** The reference: NATS semantics written as a regular expression over the whole subject. */
function reference(pattern: string, subject: string): boolean {
  const source = pattern
    .split(".")
    .map((token) => (token === "*" ? "[^.]+" : token === ">" ? ".+" : token.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("\\.");
  return new RegExp(`^${source}$`).test(subject);
}

const word = fc.constantFrom("default", "tenant-a", "Cart", "Inventory", "ItemAdded", "CheckedOut", "x");
const subject = fc.array(word, { minLength: 1, maxLength: 5 }).map((tokens) => tokens.join("."));
const pattern = fc
  .tuple(fc.array(fc.oneof(word, fc.constant("*")), { minLength: 0, maxLength: 4 }), fc.boolean())
  .filter(([tokens, tail]) => tokens.length > 0 || tail)
  .map(([tokens, tail]) => [...tokens, ...(tail ? [">"] : [])].join("."));

describe("subject patterns", () => {
  it("matches exactly what the reference matcher matches (fast-check)", () => {
    fc.assert(
      fc.property(pattern, subject, (p, s) => {
        expect(new SubjectPattern(p).matches(s)).toBe(reference(p, s));
      }),
      { numRuns: 5_000 },
    );
  });

  it("matches subjects built from a pattern's own tokens (fast-check)", () => {
    fc.assert(
      fc.property(pattern, fc.array(word, { minLength: 1, maxLength: 3 }), (p, fill) => {
        // Replace each wildcard by a concrete token: the result must match.
        const tokens = p.split(".");
        const concrete = tokens.flatMap((t, i) => (t === "*" ? [fill[i % fill.length]] : t === ">" ? fill : [t]));
        expect(new SubjectPattern(p).matches(concrete.join("."))).toBe(true);
      }),
    );
  });

  it("examples: * is one token, > is one or more, literal tokens are exact", () => {
    expect(new SubjectPattern("default.Cart.*").matches("default.Cart.ItemAdded")).toBe(true);
    expect(new SubjectPattern("default.Cart.*").matches("default.Cart")).toBe(false);
    expect(new SubjectPattern("default.>").matches("default.Cart.ItemAdded")).toBe(true);
    expect(new SubjectPattern("default.>").matches("default")).toBe(false);
    expect(new SubjectPattern("*.Cart.ItemAdded").spansNamespaces).toBe(true);
    expect(new SubjectPattern("default.Cart.>").namespace).toBe("default");
  });

  it("invalid patterns are refused with a message naming the problem", () => {
    expect(() => new SubjectPattern("")).toThrow(/non-empty/);
    expect(() => new SubjectPattern("default..Cart")).toThrow(/empty token/);
    expect(() => new SubjectPattern("default.>.Cart")).toThrow(/last token/);
    expect(() => new SubjectPattern("default.Car*")).toThrow(/whole tokens/);
  });
});
