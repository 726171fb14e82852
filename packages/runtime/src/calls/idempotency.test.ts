import {
  EventSourcedActor,
  type EventStore,
  MemoryEventStore,
  MemorySnapshotStore,
  type RecordedEvent,
  streamOf,
} from "@granary/core";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Account, Counter, InsufficientFunds } from "../__fixtures__/actors.js";
import { Silo } from "../silo/silo.js";
import { callContext } from "./call-context.js";
import { callMessage, parseCallRequest } from "./call-wire.js";
import { IdempotencyTable } from "./idempotency.js";

const silent = pino({ level: "silent" });
const silos: Silo[] = [];

afterEach(async () => {
  await Promise.all(silos.splice(0).map((s) => s.stop()));
});

/** Commits a step with persist(), then fails: the call ran, but its outcome is an error. */
class Saga extends EventSourcedActor<{ steps: number }, { type: "Stepped" }> {
  static readonly type = "Saga";
  static runs = 0;
  initialState() {
    return { steps: 0 };
  }
  apply(state: { steps: number }) {
    return { steps: state.steps + 1 };
  }
  async stepThenFail(): Promise<void> {
    Saga.runs++;
    this.raise({ type: "Stepped" });
    await this.persist();
    throw new Error("failed after the first step was committed");
  }
}

async function startSilo(store: EventStore = new MemoryEventStore()) {
  const silo = await Silo.start({
    actors: [Account, Counter, Saga],
    errors: [InsufficientFunds],
    logger: silent,
    store,
    snapshots: new MemorySnapshotStore(),
  });
  silos.push(silo);
  return { silo, store };
}

describe("idempotent commands", () => {
  it("a retry with the same key returns the first outcome and never runs twice", async () => {
    const { silo, store } = await startSilo();
    const first = await silo.get(Account, "a", { idempotencyKey: "deposit-1" }).deposit(5);
    const retry = await silo.get(Account, "a", { idempotencyKey: "deposit-1" }).deposit(5);
    expect([first, retry]).toEqual([5, 5]);
    const events = await store.read(streamOf("Account", "a"));
    expect(events).toHaveLength(1);
    expect(events[0]?.metadata.idempotency).toMatchObject({ key: "deposit-1", method: "deposit" });
    expect(events[0]?.metadata.idempotency?.reply).toEqual(expect.any(String));
    // Another key is another command.
    expect(await silo.get(Account, "a", { idempotencyKey: "deposit-2" }).deposit(5)).toBe(10);
  });

  it("a new activation (after a crash or a move) answers a retry from the recorded reply", async () => {
    const store = new MemoryEventStore();
    const { silo } = await startSilo(store);
    await silo.get(Account, "a").deposit(100);
    expect(await silo.get(Account, "a", { idempotencyKey: "k" }).deposit(5)).toBe(105);
    await silo.get(Account, "a").deposit(1);
    await silo.stop();
    const { silo: successor } = await startSilo(store);
    expect(await successor.get(Account, "a", { idempotencyKey: "k" }).deposit(5)).toBe(105);
    expect((await store.read("Account/a")).length).toBe(3);
    expect(await successor.get(Account, "a").balance()).toBe(106);
  });

  it("a key reused for another command is refused with IDEMPOTENCY_CONFLICT", async () => {
    const { silo } = await startSilo();
    await silo.get(Account, "a", { idempotencyKey: "k" }).deposit(5);
    await expect(silo.get(Account, "a", { idempotencyKey: "k" }).deposit(6)).rejects.toMatchObject({
      code: "IDEMPOTENCY_CONFLICT",
      message: expect.stringMatching(/names exactly one command/),
    });
    await expect(silo.get(Account, "a", { idempotencyKey: "k" }).withdraw(5)).rejects.toMatchObject({
      code: "IDEMPOTENCY_CONFLICT",
    });
  });

  it("a call that committed no events (it threw, or raised nothing) changed nothing and runs again", async () => {
    const { silo, store } = await startSilo();
    const withdraw = silo.get(Account, "a", { idempotencyKey: "w" });
    await expect(withdraw.withdraw(5)).rejects.toBeInstanceOf(InsufficientFunds);
    await silo.get(Account, "a").deposit(10);
    expect(await withdraw.withdraw(5)).toBe(5);
    expect(await withdraw.withdraw(5)).toBe(5);
    expect((await store.read("Account/a")).map((e) => e.type)).toEqual(["Deposited", "Withdrawn"]);
  });

  it("a call that failed after a mid-turn commit is not run again: same error here, ALREADY_EXECUTED after re-activation", async () => {
    const store = new MemoryEventStore();
    const { silo } = await startSilo(store);
    Saga.runs = 0;
    const saga = silo.get(Saga, "s", { idempotencyKey: "once" });
    await expect(saga.stepThenFail()).rejects.toThrow(/after the first step/);
    await expect(saga.stepThenFail()).rejects.toThrow(/after the first step/);
    await silo.stop();
    const { silo: successor } = await startSilo(store);
    await expect(successor.get(Saga, "s", { idempotencyKey: "once" }).stepThenFail()).rejects.toMatchObject({
      code: "ALREADY_EXECUTED",
      data: { key: "once", version: 1 },
    });
    expect(Saga.runs).toBe(1);
    expect((await store.read("Saga/s")).length).toBe(1);
  });

  it("a plain actor runs a resent keyed call once per activation", async () => {
    const { silo } = await startSilo();
    const counter = silo.get(Counter, "c", { idempotencyKey: "inc-1" });
    expect([await counter.increment(), await counter.increment()]).toEqual([1, 1]);
    expect(await silo.get(Counter, "c").increment()).toBe(2);
  });

  it("keys are checked and carried on the wire", async () => {
    const { silo } = await startSilo();
    expect(() => silo.get(Account, "a", { idempotencyKey: "" })).toThrow(/idempotencyKey/);
    expect(() => silo.get(Account, "a", { idempotencyKey: "x".repeat(201) })).toThrow(/at most 200/);
    const request = {
      actorType: "Account",
      actorId: "a",
      method: "deposit",
      args: [1],
      context: callContext("c1", ["c1"], "c1", undefined, undefined),
      timeoutMs: 1_000,
      idempotencyKey: "key-1",
    };
    expect(parseCallRequest(callMessage(request, 0))).toEqual(request);
    const frame = callMessage(request, 0);
    frame[12] = 42;
    expect(() => parseCallRequest(frame)).toThrow(/idempotencyKey/);
  });

  it("the table remembers the keys of the last `window` events only, and rebuilds them from the store", async () => {
    const store = new MemoryEventStore();
    const { silo } = await startSilo(store);
    for (let i = 1; i <= 5; i++) await silo.get(Account, "a", { idempotencyKey: `k${i}` }).deposit(i);
    const table = new IdempotencyTable("Account/a", store, 3);
    await table.ready(5);
    expect(table.size).toBe(3);
    expect(table.lookup("k2", "deposit", "?")).toBeUndefined();
    const seen = table.lookup("k5", "deposit", keyRecord(await store.read("Account/a"), "k5"));
    expect(seen && table.replay("k5", seen)).toBe(15);
  });
});

function keyRecord(events: RecordedEvent[], key: string): string {
  return events.find((e) => e.metadata.idempotency?.key === key)?.metadata.idempotency?.args as string;
}
