import {
  type EventEnvelope,
  EventSourcedActor,
  isGranaryError,
  ManualClock,
  MemoryEventStore,
  MemorySnapshotStore,
  streamOf,
  Upcasters,
} from "@granary/core";
import fc from "fast-check";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Account, type AccountEvent, InsufficientFunds, Rendezvous } from "../__fixtures__/actors.js";
import { Silo } from "../silo/silo.js";

const silent = pino({ level: "silent" });
const silos: Silo[] = [];

async function startSilo(options: Partial<Parameters<typeof Silo.start>[0]> = {}) {
  const store = options.store ?? new MemoryEventStore();
  const snapshots = options.snapshots ?? new MemorySnapshotStore();
  const silo = await Silo.start({ actors: [Account], logger: silent, ...options, store, snapshots });
  silos.push(silo);
  return { silo, store, snapshots };
}

afterEach(async () => {
  await Promise.all(silos.splice(0).map((s) => s.stop()));
});

function envelope(stream: string, version: number, event: AccountEvent): EventEnvelope {
  const { type, ...data } = event;
  return {
    id: `evt-${stream}-${version}`,
    type,
    stream,
    version,
    schemaVersion: 1,
    data,
    metadata: { correlationId: "c", causationId: "c", commandId: "c" },
    timestamp: new Date(0).toISOString(),
  };
}

describe("turns of an event-sourced actor", () => {
  it("commits the events a method raises before replying, with full metadata", async () => {
    const { silo, store } = await startSilo();
    const account = silo.get(Account, "acc-1", { userId: "alice", correlationId: "req-7" });
    expect(await account.deposit(5)).toBe(5);
    const [event] = await store.read(streamOf("Account", "acc-1"));
    expect(event).toMatchObject({
      type: "Deposited",
      stream: "Account/acc-1",
      version: 1,
      data: { amount: 5 },
      metadata: { userId: "alice", correlationId: "req-7" },
    });
    expect(event?.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(event?.metadata.commandId).toBe(event?.metadata.causationId);
    expect(Date.parse(event?.timestamp ?? "")).not.toBeNaN();
  });

  it("a thrown error discards the turn's events and restores the state from before the turn", async () => {
    const { silo, store } = await startSilo();
    const account = silo.get(Account, "acc-1");
    await account.deposit(10);
    await expect(account.depositThenFail(99)).rejects.toThrow("failed after depositing 99");
    expect(await account.balance()).toBe(10);
    expect(await account.snapshot()).toMatchObject({ version: 1 });
    expect(await store.latestVersion("Account/acc-1")).toBe(1);
  });

  it("a domain error reaches the caller with its class, name, code, message and data", async () => {
    const { silo } = await startSilo();
    const account = silo.get(Account, "acc-1");
    await account.deposit(3);
    const error = await account.withdraw(50).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientFunds);
    expect(error).toMatchObject({
      name: "InsufficientFunds",
      code: "INSUFFICIENT_FUNDS",
      message: "balance 3 is less than 50",
      data: { balance: 3, amount: 50 },
    });
  });

  it("a version conflict deactivates the stale activation and gives the caller a retryable error", async () => {
    const { silo, store } = await startSilo();
    const account = silo.get(Account, "acc-1");
    await account.deposit(1);
    // Another writer (think: a zombie silo) appends behind this activation's back.
    await store.append("Account/acc-1", 1, [envelope("Account/acc-1", 2, { type: "Deposited", amount: 100 })]);
    const error = await account.deposit(5).catch((e: unknown) => e);
    expect(isGranaryError(error, "STALE_ACTIVATION")).toBe(true);
    expect((error as { retryable: boolean }).retryable).toBe(true);
    // The retry lands on a fresh activation that replayed the other writer's event; nothing was overwritten.
    expect(await account.deposit(5)).toBe(106);
    const versions = (await store.read("Account/acc-1")).map((e) => e.version);
    expect(versions).toEqual([1, 2, 3]);
  });

  it("an append with an older fencing epoch is rejected and the activation becomes stale", async () => {
    const { silo, store } = await startSilo();
    const account = silo.get(Account, "acc-1");
    await account.deposit(1);
    // A newer activation elsewhere has written with a higher epoch (same version, so only the epoch fences).
    await store.append("Account/acc-1", 1, [envelope("Account/acc-1", 2, { type: "Deposited", amount: 7 })], {
      epoch: Number.MAX_SAFE_INTEGER,
    });
    const error = await account.deposit(5).catch((e: unknown) => e);
    expect(isGranaryError(error, "STALE_ACTIVATION")).toBe(true);
    expect((error as Error).cause).toMatchObject({ code: expect.stringMatching(/VERSION_CONFLICT|FENCED_WRITE/) });
  });

  it.each([
    ["a Date", { type: "Deposited", amount: new Date() }, "$.amount"],
    ["NaN", { type: "Deposited", amount: Number.NaN }, "$.amount"],
    ["undefined", { type: "Deposited", amount: undefined }, "$.amount"],
  ])("raising %s fails at raise() with INVALID_EVENT naming the path", async (_label, event, path) => {
    const { silo, store } = await startSilo();
    const error = await silo
      .get(Account, "acc-1")
      .raiseRaw(event)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "INVALID_EVENT", data: { path } });
    expect(await store.latestVersion("Account/acc-1")).toBe(0);
  });

  it.each([
    ["a Map", "map", "$.amount"],
    ["a class instance", "instance", "$.amount"],
    ["a function", "function", "$.amount"],
    ["a cyclic payload", "cycle", expect.stringMatching(/^\$\.self/)],
  ] as const)(
    "raising %s (built inside the actor) fails at raise() with INVALID_EVENT naming the path",
    async (_label, kind, path) => {
      const { silo, store } = await startSilo();
      const error = await silo
        .get(Account, "acc-1")
        .raiseNonWire(kind)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "INVALID_EVENT", data: { path } });
      expect(await store.latestVersion("Account/acc-1")).toBe(0);
    },
  );

  it("state is frozen in development, so mutating it fails loudly", async () => {
    const { silo } = await startSilo({ freezeState: true });
    await silo.get(Account, "acc-1").deposit(1);
    await expect(silo.get(Account, "acc-1").mutateState()).rejects.toThrow(TypeError);
  });

  it("concurrent calls to one actor are serialized: no lost update", async () => {
    const { silo } = await startSilo();
    const account = silo.get(Account, "acc-1");
    const results = await Promise.all(Array.from({ length: 50 }, () => account.slowDeposit(1)));
    expect(new Set(results).size).toBe(50);
    expect(await account.balance()).toBe(50);
  });

  it("calls to different actors run concurrently", async () => {
    const { silo } = await startSilo({ actors: [Account, Rendezvous], callTimeoutMs: 5_000 });
    // Each call returns only once all 20 are inside their turns at the same time: serialized, it times out.
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => silo.get(Rendezvous, `r-${i}`).arrive(20)));
    expect(ids).toHaveLength(20);
    expect(silo.activationCount).toBe(20);
  });

  it("call-chain reentrancy: A → B → A completes instead of deadlocking", async () => {
    const { silo, store } = await startSilo({ callTimeoutMs: 5_000 });
    const result = await silo.get(Account, "a").pingPong("b");
    // A deposited 1, then B deposited 10 and called A.deposit(100) inside the same chain.
    expect(result).toBe(101);
    expect(await silo.get(Account, "a").balance()).toBe(101);
    expect((await store.read("Account/a")).map((e) => e.version)).toEqual([1, 2]);
    expect(await silo.get(Account, "b").balance()).toBe(10);
  });

  it("unrelated calls wait for the running turn instead of interleaving", async () => {
    const { silo } = await startSilo();
    const account = silo.get(Account, "acc-1");
    const order: string[] = [];
    await Promise.all([
      account.slowDeposit(1).then(() => order.push("slow")),
      account.deposit(1).then(() => order.push("fast")),
    ]);
    expect(order).toEqual(["slow", "fast"]);
  });
});

describe("rehydration", () => {
  it("replays stored history into a fresh activation after idle deactivation", async () => {
    const clock = new ManualClock();
    const { silo } = await startSilo({ clock, idleTimeoutMs: 60_000 });
    await silo.get(Account, "acc-1").deposit(5);
    await silo.get(Account, "acc-1").deposit(6);
    clock.advance(60_000);
    await vi.waitFor(() => expect(silo.activationCount).toBe(0));
    expect(await silo.get(Account, "acc-1").snapshot()).toMatchObject({ version: 2, state: { balance: 11 } });
  });

  it("a history whose apply throws fails activation with an error naming stream and version", async () => {
    const store = new MemoryEventStore();
    await store.append("Account/acc-1", 0, [
      envelope("Account/acc-1", 1, { type: "Deposited", amount: 1 }),
      envelope("Account/acc-1", 2, { type: "Exploded" } as unknown as AccountEvent),
    ]);
    class Strict extends Account {
      static override readonly type = "Account";
      override apply(state: Parameters<Account["apply"]>[0], event: AccountEvent) {
        if (!["Opened", "Deposited", "Withdrawn"].includes(event.type)) throw new Error(`unknown event ${event.type}`);
        return super.apply(state, event);
      }
    }
    const silo = await Silo.start({ actors: [Strict], store, snapshots: new MemorySnapshotStore(), logger: silent });
    silos.push(silo);
    const error = await silo
      .get(Strict, "acc-1")
      .balance()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CORRUPT_HISTORY", data: { stream: "Account/acc-1", version: 2 } });
    expect((error as Error).message).toContain("unknown event Exploded");
    // The actor never serves a half-rebuilt state: every later call fails the same way.
    await expect(silo.get(Strict, "acc-1").balance()).rejects.toMatchObject({ code: "CORRUPT_HISTORY" });
  });

  it("a snapshot of another snapshotVersion is ignored, never misread", async () => {
    const store = new MemoryEventStore();
    const snapshots = new MemorySnapshotStore();
    await store.append("Account/acc-1", 0, [envelope("Account/acc-1", 1, { type: "Deposited", amount: 4 })]);
    // A snapshot written by an older class whose state had another shape.
    await snapshots.save({
      stream: "Account/acc-1",
      version: 1,
      snapshotVersion: 1,
      state: { cents: 999_999 },
      timestamp: new Date(0).toISOString(),
    });
    class AccountV2 extends Account {
      static override readonly type = "Account";
      static override snapshotEvery = 2;
      static readonly snapshotVersion = 2;
    }
    const silo = await Silo.start({ actors: [AccountV2], store, snapshots, logger: silent });
    silos.push(silo);
    expect(await silo.get(AccountV2, "acc-1").snapshot()).toEqual({
      version: 1,
      state: { owner: null, balance: 4, deposits: 1 },
    });
  });

  it("snapshot + replay equals full replay, for any history and snapshot interval", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 1_000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 10 }),
        async (amounts, every) => {
          class Snapshotting extends Account {
            static override readonly type = "Account";
            static override snapshotEvery = every;
          }
          const store = new MemoryEventStore();
          const snapshots = new MemorySnapshotStore();
          const writer = await Silo.start({ actors: [Snapshotting], store, snapshots, logger: silent });
          for (const amount of amounts) await writer.get(Snapshotting, "p").deposit(amount);
          await writer.stop();
          const fromSnapshot = await Silo.start({ actors: [Snapshotting], store, snapshots, logger: silent });
          const full = await Silo.start({
            actors: [Account],
            store,
            snapshots: new MemorySnapshotStore(),
            logger: silent,
          });
          const a = await fromSnapshot.get(Snapshotting, "p").snapshot();
          const b = await full.get(Account, "p").snapshot();
          await Promise.all([fromSnapshot.stop(), full.stop()]);
          expect((await snapshots.load("Account/p"))?.version).toBeGreaterThan(0);
          expect(a).toEqual(b);
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe("schema evolution", () => {
  it("an event type evolved twice replays old history into the new class through its upcasters", async () => {
    type V3Event = { type: "Deposited"; cents: number; currency: string } | { type: "Opened"; owner: string };
    const store = new MemoryEventStore();
    // History written by v1 of the class: { amount } in whole euros.
    await store.append("Wallet/w", 0, [
      { ...envelope("Wallet/w", 1, { type: "Deposited", amount: 2 }), stream: "Wallet/w" },
      { ...envelope("Wallet/w", 2, { type: "Deposited", amount: 3 }), stream: "Wallet/w" },
    ]);
    class Wallet extends EventSourcedActor<{ cents: number; currencies: string[] }, V3Event> {
      static readonly type = "Wallet";
      static readonly upcasters = new Upcasters()
        .register("Deposited", 1, (d) => ({ ...d, currency: "EUR" })) // v1 → v2: currency added
        .register("Deposited", 2, (d) => ({ cents: Number(d.amount) * 100, currency: d.currency ?? "EUR" })); // v2 → v3
      initialState() {
        return { cents: 0, currencies: [] as string[] };
      }
      apply(state: { cents: number; currencies: string[] }, event: V3Event) {
        if (event.type !== "Deposited") return state;
        return { cents: state.cents + event.cents, currencies: [...new Set([...state.currencies, event.currency])] };
      }
      async deposit(cents: number) {
        this.raise({ type: "Deposited", cents, currency: "EUR" });
        return this.state;
      }
    }
    const silo = await Silo.start({ actors: [Wallet], store, snapshots: new MemorySnapshotStore(), logger: silent });
    silos.push(silo);
    expect(await silo.get(Wallet, "w").deposit(50)).toEqual({ cents: 550, currencies: ["EUR"] });
    // New events are written in the current shape, tagged with schema version 3; old ones stay as written.
    const stored = await store.read("Wallet/w");
    expect(stored.map((e) => e.schemaVersion)).toEqual([1, 1, 3]);
    expect(stored[0]?.data).toEqual({ amount: 2 });
  });
});

describe("read-only methods", () => {
  class Reader extends Account {
    static override readonly type = "Account";
    static readonly readOnly = ["slowBalance", "sneakyRaise"];
    static overlapping = 0;
    static maxOverlap = 0;
    async slowBalance(): Promise<number> {
      Reader.overlapping++;
      Reader.maxOverlap = Math.max(Reader.maxOverlap, Reader.overlapping);
      await new Promise((resolve) => setTimeout(resolve, 20));
      Reader.overlapping--;
      return this.state.balance;
    }
    async sneakyRaise(): Promise<void> {
      this.raise({ type: "Deposited", amount: 1 });
    }
  }

  it("read-only calls run together, but never beside a state-changing call", async () => {
    const { silo } = await startSilo({ actors: [Reader] });
    const ref = silo.get(Reader, "r");
    await ref.deposit(1);
    Reader.maxOverlap = 0;
    const results = await Promise.all([
      ref.slowBalance(),
      ref.slowBalance(),
      ref.slowBalance(),
      ref.slowDeposit(1),
      ref.slowBalance(),
    ]);
    expect(Reader.maxOverlap).toBe(3);
    expect(results).toEqual([1, 1, 1, 2, 2]);
  });

  it("raise() inside a read-only method fails", async () => {
    const { silo } = await startSilo({ actors: [Reader] });
    await expect(silo.get(Reader, "r").sneakyRaise()).rejects.toThrow(/outside a turn/);
  });

  it("a readOnly entry that is not a public method is a configuration error", async () => {
    class Bad extends Account {
      static override readonly type = "Account";
      static readonly readOnly = ["nope"];
    }
    await expect(startSilo({ actors: [Bad] })).rejects.toThrow(/Bad.readOnly/);
  });
});
