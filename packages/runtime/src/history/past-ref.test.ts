import type { ActorRef, PastActorRef } from "@granary/core";
import { describe, expectTypeOf, it } from "vitest";
import type { Ledger, LooseLedger, Notebook } from "../__fixtures__/ledger.js";
import type { Silo } from "../silo/silo.js";

// Type-level tests: `pnpm typecheck` fails if an @ts-expect-error line stops being an error. The
// bodies are only type-checked (never run): `silo` does not exist at run time.
declare const silo: Silo;
const typeOnly = (check: () => void): void => void check;

describe("PastActorRef (types)", () => {
  it("asOf on a class with a readOnly tuple exposes exactly those methods", () =>
    typeOnly(() => {
      const then = silo.get({} as typeof Ledger, "l", { asOf: { version: 1 } });
      expectTypeOf(then.balance).toEqualTypeOf<() => Promise<number>>();
      expectTypeOf(then).toEqualTypeOf<PastActorRef<Ledger, typeof Ledger>>();
      // @ts-expect-error credit changes state: not on a past reference
      void then.credit;
      // @ts-expect-error rename is not readOnly either
      void then.rename;
    }));

  it("without asOf the reference has every public async method", () =>
    typeOnly(() => {
      const now = silo.get({} as typeof Ledger, "l");
      expectTypeOf(now).toEqualTypeOf<ActorRef<Ledger>>();
      expectTypeOf(now.credit).toBeFunction();
    }));

  it("a readOnly typed as string[] cannot narrow: every method is on the type, refused at run time", () =>
    typeOnly(() => {
      const then = silo.get({} as typeof LooseLedger, "l", { asOf: { time: "2026-01-01T00:00:00Z" } });
      expectTypeOf(then).toEqualTypeOf<ActorRef<LooseLedger>>();
    }));

  it("a class without readOnly exposes nothing in the past", () =>
    typeOnly(() => {
      const then = silo.get({} as typeof Notebook, "n", { asOf: { version: 0 } });
      // @ts-expect-error write is not readOnly
      void then.write;
      expectTypeOf(then).toEqualTypeOf<Record<never, never>>();
    }));

  it("a point is { version } or { time }", () =>
    typeOnly(() => {
      // @ts-expect-error a point needs version or time
      silo.get({} as typeof Ledger, "l", { asOf: { at: 3 } });
      expectTypeOf(silo.stateAt<Ledger>)
        .returns.resolves.toHaveProperty("state")
        .toEqualTypeOf<Ledger["state"]>();
    }));
});
