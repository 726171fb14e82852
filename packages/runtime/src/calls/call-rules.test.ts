import {
  Actor,
  EventSourcedActor,
  isWellFormed,
  MemoryDirectory,
  MemoryEventStore,
  MemoryMembership,
  MemorySnapshotStore,
} from "@granary/core";
import { pino } from "pino";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { Account, Counter } from "../__fixtures__/actors.js";
import { Client } from "../client/client.js";
import { Silo } from "../silo/silo.js";
import { childContext } from "./call-context.js";
import { CALL, parseCallRequest } from "./call-wire.js";

const logger = pino({ level: "silent" });
const clusterKey = "call-rules-test-cluster-key-0123456789";
const running: { stop?: () => Promise<void>; close?: () => Promise<void> }[] = [];

afterEach(async () => {
  await Promise.allSettled(running.splice(0).map((r) => (r.stop ? r.stop() : r.close?.())));
});

class Shapes extends Actor {
  static readonly type = "Shapes";
  async map(): Promise<Map<string, number>> {
    return new Map([["a", 1]]);
  }
  async nestedSet(): Promise<{ tags: Set<string> }> {
    return { tags: new Set(["x"]) };
  }
  async plain(): Promise<{ a: number; when: Date; list: string[] }> {
    return { a: 1, when: new Date(0), list: ["x"] };
  }
  async echo(value: unknown): Promise<unknown> {
    return value;
  }
}

interface Ledger {
  readonly entries: readonly number[];
  readonly total: number;
}
class MutatingLedger extends EventSourcedActor<Ledger, { type: "Added"; amount: number }> {
  static readonly type = "MutatingLedger";
  initialState(): Ledger {
    return { entries: [], total: 0 };
  }
  apply(state: Ledger, event: { type: "Added"; amount: number }): Ledger {
    return { entries: [...state.entries, event.amount], total: state.total + event.amount };
  }
  async mutate(amount: number): Promise<number> {
    (this.state as { total: number }).total += amount;
    return this.state.total;
  }
  async raiseDeep(depth: number): Promise<void> {
    let data: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < depth; i++) data = { a: data };
    this.raise({ type: "Added", amount: 1, ...data } as never);
  }
  async raiseText(kind: "surrogate" | "nul"): Promise<void> {
    const text = kind === "surrogate" ? "a\uD800" : "a\u0000";
    this.raise({ type: "Added", amount: 1, text } as never);
  }
}

async function standalone() {
  const silo = await Silo.start({
    actors: [Account, Counter, Shapes, MutatingLedger],
    store: new MemoryEventStore(),
    snapshots: new MemorySnapshotStore(),
    logger,
  });
  running.push(silo);
  return silo;
}

async function clusterWithClient() {
  const membership = new MemoryMembership();
  const directory = new MemoryDirectory({ isLive: (id) => membership.isLive(id) });
  const silo = await Silo.start({
    actors: [Account, Counter, Shapes, MutatingLedger],
    membership,
    directory,
    store: new MemoryEventStore(),
    snapshots: new MemorySnapshotStore(),
    clusterKey,
    port: 0,
    logger,
  });
  running.push(silo);
  const client = await Client.connect({ membership, clusterKey, callTimeoutMs: 10_000 });
  running.push(client);
  return { silo, client };
}

const BAD_IDS: readonly [string, string][] = [
  ["a lone high surrogate", "a\uD800"],
  ["another lone high surrogate", "a\uDBFF"],
  ["a lone low surrogate", "a\uDC00"],
  ["NUL", "a\u0000b"],
  ["10 KB", "x".repeat(10_240)],
  ["empty", ""],
];

describe("actor id rules", () => {
  it.each(BAD_IDS)("an id with %s is refused with INVALID_ARGUMENT on a local call", async (_, id) => {
    const silo = await standalone();
    expect(() => silo.get(Counter, id)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it('"a\\uD800" and "a\\uDBFF" do not alias one actor: both are refused, locally and from a client', async () => {
    const { silo, client } = await clusterWithClient();
    for (const id of ["a\uD800", "a\uDBFF"]) {
      expect(() => silo.get(Counter, id)).toThrow(/lone surrogate/);
      expect(() => client.get(Counter, id)).toThrow(/lone surrogate/);
    }
    expect(silo.activeActors()).toEqual([]);
  });

  it("an id of exactly 1,024 bytes of UTF-8 is accepted; 1,025 is refused naming the limit", async () => {
    const silo = await standalone();
    const id = `${"€".repeat(341)}x`; // 341 × 3 + 1 = 1,024 bytes
    expect(await silo.get(Account, id).deposit(1)).toBe(1);
    expect(() => silo.get(Account, `${id}x`)).toThrow(/at most 1024 bytes of UTF-8, got 1025/);
  });

  // A lone surrogate cannot even be sent: msgpack carries UTF-8, which has no form for it (the client's
  // check above is what keeps two such ids apart). Every other rule is enforced again by the silo.
  it.each(BAD_IDS.filter(([, id]) => isWellFormed(id)))(
    "an id with %s that bypasses the client's check is refused by the silo from the wire",
    async (_, id) => {
      const { silo, client } = await clusterWithClient();
      const call = client.invoke({
        actorType: "Counter",
        actorId: id,
        method: "increment",
        args: [],
        context: childContext(undefined, {}),
        timeoutMs: 5_000,
      });
      await expect(call).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      expect(silo.activeActors()).toEqual([]);
    },
  );

  it("the wire applies the same rules to the type, the id and the timeout as a local call", () => {
    const frame = (type: unknown, id: unknown, timeoutMs: unknown) => [CALL, 0, type, id, "m", [], timeoutMs, "c1"];
    expect(parseCallRequest(frame("Counter", "ok", 1_000)).actorId).toBe("ok");
    for (const bad of [frame("Counter", "", 1_000), frame("", "ok", 1_000), frame("A/B", "ok", 1_000)]) {
      expect(() => parseCallRequest(bad)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
    for (const timeoutMs of [-1, 0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      expect(() => parseCallRequest(frame("Counter", "ok", timeoutMs)), String(timeoutMs)).toThrow(/timeoutMs must be/);
    }
  });
});

describe("call options", () => {
  it.each([-1, 0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31])(
    "timeoutMs of %s is refused with INVALID_ARGUMENT",
    async (timeoutMs) => {
      const silo = await standalone();
      expect(() => silo.get(Counter, "c", { timeoutMs })).toThrow(
        expect.objectContaining({
          code: "INVALID_ARGUMENT",
          message: expect.stringMatching(/timeoutMs must be a finite/),
        }),
      );
    },
  );

  it("a timeoutMs of NaN sent over the wire is refused by the silo", async () => {
    const { client } = await clusterWithClient();
    const call = client.invoke({
      actorType: "Counter",
      actorId: "c",
      method: "increment",
      args: [],
      context: childContext(undefined, {}),
      timeoutMs: Number.NaN,
    });
    await expect(call).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});

describe("results and arguments cross the same check locally and remotely", () => {
  it("a Map result fails with SERIALIZATION_ERROR naming the fix, locally and remotely alike", async () => {
    const { silo, client } = await clusterWithClient();
    const local = await silo
      .get(Shapes, "s")
      .map()
      .catch((e: unknown) => e);
    const remote = await client
      .get(Shapes, "s")
      .map()
      .catch((e: unknown) => e);
    expect(local).toMatchObject({ code: "SERIALIZATION_ERROR", message: expect.stringMatching(/Object\.fromEntries/) });
    expect(remote).toMatchObject({ code: "SERIALIZATION_ERROR", message: (local as Error).message });
    const nested = await silo
      .get(Shapes, "s")
      .nestedSet()
      .catch((e: unknown) => e);
    expect(nested).toMatchObject({ code: "SERIALIZATION_ERROR", data: { path: "$.tags" } });
  });

  it("plain results (objects, arrays, Dates) are equal locally and remotely", async () => {
    const { silo, client } = await clusterWithClient();
    expect(await silo.get(Shapes, "s").plain()).toEqual(await client.get(Shapes, "s").plain());
  });

  it("a Map argument is refused before the call is sent, locally and remotely alike", async () => {
    const { silo, client } = await clusterWithClient();
    for (const ref of [silo.get(Shapes, "s"), client.get(Shapes, "s")]) {
      await expect(ref.echo(new Map([["a", 1]]))).rejects.toMatchObject({
        code: "SERIALIZATION_ERROR",
        message: expect.stringMatching(/argument 0 of Shapes\.echo/),
      });
    }
  });

  it("the reference's types say what arrives: a Map result is never, plain data unchanged", () => {
    type ShapesRef = ReturnType<Silo["get"]> extends never ? never : import("@granary/core").ActorRef<Shapes>;
    expectTypeOf<Awaited<ReturnType<ShapesRef["map"]>>>().toBeNever();
    expectTypeOf<Awaited<ReturnType<ShapesRef["nestedSet"]>>>().toEqualTypeOf<{ tags: never }>();
    expectTypeOf<Awaited<ReturnType<ShapesRef["plain"]>>>().toEqualTypeOf<{ a: number; when: Date; list: string[] }>();
  });
});

describe("clear errors inside actors", () => {
  it("an argument string with a lone surrogate is refused: it could not cross the wire unchanged", async () => {
    const silo = await standalone();
    await expect(silo.get(Shapes, "s").echo("a\uD800")).rejects.toMatchObject({ code: "SERIALIZATION_ERROR" });
  });

  it("mutating this.state says state is frozen because it is an immutable fold result, and what to do", async () => {
    const silo = await standalone();
    const error = await silo
      .get(MutatingLedger, "l")
      .mutate(5)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/Cannot assign to read only property 'total'/);
    expect((error as Error).message).toMatch(/immutable result of folding events with apply\(\)/);
    expect((error as Error).message).toMatch(/raising an event/);
  });

  it("a payload nested 5,000 deep fails at raise with INVALID_EVENT naming the limit, not a RangeError", async () => {
    const silo = await standalone();
    const error = await silo
      .get(MutatingLedger, "l")
      .raiseDeep(5_000)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "INVALID_EVENT", message: expect.stringMatching(/MAX_PAYLOAD_DEPTH/) });
  });

  it("a payload string with a lone surrogate or NUL fails at raise with INVALID_EVENT", async () => {
    const silo = await standalone();
    for (const kind of ["surrogate", "nul"] as const) {
      const error = await silo
        .get(MutatingLedger, "l")
        .raiseText(kind)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "INVALID_EVENT", data: { path: "$.text" } });
    }
  });
});
