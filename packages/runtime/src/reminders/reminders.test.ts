import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  EventSourcedActor,
  ManualClock,
  MemoryEventStore,
  MemoryReminderStore,
  MemorySnapshotStore,
  type MissedTickPolicy,
  type ReminderOptions,
  type ReminderStore,
  type ReminderTick,
} from "@granary/core";
import { SqliteEventStore, SqliteReminderStore, SqliteSnapshotStore } from "@granary/sqlite";
import { pino } from "pino";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { Silo } from "../silo/silo.js";

const silent = pino({ level: "silent" });
const T0 = Date.UTC(2030, 0, 1);
const dir = join(tmpdir(), `granary-reminders-${randomUUID()}`);
const silos: Silo[] = [];

interface Fired {
  readonly actor: string;
  readonly name: string;
  readonly tick: ReminderTick;
}

type CartEvent = { type: "Touched" } | { type: "Expired"; tickId: string };

class Cart extends EventSourcedActor<{ expired: number; touched: number }, CartEvent> {
  static readonly type = "Cart";
  static fired: Fired[] = [];
  static failuresLeft = 0;

  initialState() {
    return { expired: 0, touched: 0 };
  }
  apply(state: { expired: number; touched: number }, event: CartEvent) {
    return event.type === "Touched"
      ? { ...state, touched: state.touched + 1 }
      : { ...state, expired: state.expired + 1 };
  }
  async touch(options: ReminderOptions = { inMs: 30 * 60_000 }, name = "expire"): Promise<void> {
    this.raise({ type: "Touched" });
    await this.remind(name, options);
  }
  async forget(name: string): Promise<boolean> {
    return this.cancelReminder(name);
  }
  async registered() {
    return this.reminders();
  }
  async expiredCount(): Promise<number> {
    return this.state.expired;
  }
  override async onReminder(name: string, tick: ReminderTick): Promise<void> {
    if (Cart.failuresLeft > 0) {
      Cart.failuresLeft--;
      throw new Error("handler failed");
    }
    Cart.fired.push({ actor: this.id, name, tick });
    this.raise({ type: "Expired", tickId: tick.id });
  }
}

class NoHandler extends EventSourcedActor<object, { type: "X" }> {
  static readonly type = "NoHandler";
  initialState() {
    return {};
  }
  apply(state: object) {
    return state;
  }
  async schedule(): Promise<void> {
    await this.remind("r", { inMs: 1_000 });
  }
}

interface Stores {
  readonly store: MemoryEventStore | SqliteEventStore;
  readonly snapshots: MemorySnapshotStore | SqliteSnapshotStore;
  readonly reminders: ReminderStore;
}

function memoryStores(): Stores {
  return { store: new MemoryEventStore(), snapshots: new MemorySnapshotStore(), reminders: new MemoryReminderStore() };
}

async function startSilo(clock: ManualClock, stores: Stores): Promise<Silo> {
  const silo = await Silo.start({
    actors: [Cart, NoHandler],
    ...stores,
    logger: silent,
    clock,
    reminderService: { pollIntervalMs: 500 },
  });
  silos.push(silo);
  return silo;
}

/** Moves the clock in poll-sized steps, letting each poll's async work run. */
async function advance(clock: ManualClock, ms: number, step = 250): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    clock.advance(Math.min(step, ms - done));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  }
}

afterEach(async () => {
  await Promise.all(silos.splice(0).map((s) => s.stop()));
  Cart.fired = [];
  Cart.failuresLeft = 0;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("reminders", () => {
  it("reminders - a due reminder calls onReminder as a turn with its tick id and scheduled time, once", async () => {
    const clock = new ManualClock(T0);
    const stores = memoryStores();
    const silo = await startSilo(clock, stores);
    await silo.get(Cart, "c1").touch({ inMs: 5_000 });
    expect(await silo.reminders(Cart, "c1")).toEqual([
      { name: "expire", dueAt: new Date(T0 + 5_000).toISOString(), missed: "fire-once" },
    ]);

    await advance(clock, 4_900);
    expect(Cart.fired).toEqual([]);
    await advance(clock, 200);
    await vi.waitFor(() => expect(Cart.fired).toHaveLength(1));
    await advance(clock, 10_000);

    expect(Cart.fired).toEqual([
      {
        actor: "c1",
        name: "expire",
        tick: { id: expect.any(String), scheduledAt: new Date(T0 + 5_000).toISOString(), missedTicks: 0 },
      },
    ]);
    // Events raised in onReminder commit like a command's; a one-shot reminder is gone after it fired.
    expect((await stores.store.read("Cart/c1")).map((e) => e.type)).toEqual(["Touched", "Expired"]);
    expect(await silo.reminders(Cart, "c1")).toEqual([]);
  });

  it("reminders - a reminder wakes an actor that is not active anywhere", async () => {
    const clock = new ManualClock(T0);
    const stores = memoryStores();
    const silo = await startSilo(clock, stores);
    await silo.get(Cart, "c1").touch({ inMs: 60_000 });
    await silo.stop();

    const next = await startSilo(clock, stores);
    expect(next.activationCount).toBe(0);
    await advance(clock, 61_000, 1_000);

    await vi.waitFor(() => expect(Cart.fired).toHaveLength(1));
    expect(next.activeActors()).toEqual(["Cart/c1"]);
  });

  it("reminders - a periodic reminder ticks every period until cancelled", async () => {
    const clock = new ManualClock(T0);
    const silo = await startSilo(clock, memoryStores());
    const cart = silo.get(Cart, "c1");
    await cart.touch({ inMs: 1_000, periodMs: 2_000 });

    await advance(clock, 5_100);
    await vi.waitFor(() => expect(Cart.fired).toHaveLength(3));
    expect(Cart.fired.map((f) => f.tick.scheduledAt)).toEqual(
      [1_000, 3_000, 5_000].map((ms) => new Date(T0 + ms).toISOString()),
    );
    expect(new Set(Cart.fired.map((f) => f.tick.id)).size).toBe(3);
    expect(await cart.forget("expire")).toBe(true);
    await advance(clock, 10_000);

    expect(Cart.fired).toHaveLength(3);
    expect(await cart.forget("expire")).toBe(false);
  });

  it("reminders - registering the same name again replaces the reminder", async () => {
    const clock = new ManualClock(T0);
    const silo = await startSilo(clock, memoryStores());
    const cart = silo.get(Cart, "c1");
    await cart.touch({ inMs: 1_000 });
    await cart.touch({ inMs: 3_000 });

    expect((await cart.registered()).map((r) => r.dueAt)).toEqual([new Date(T0 + 3_000).toISOString()]);
    await advance(clock, 10_000);
    await vi.waitFor(() => expect(Cart.fired).toHaveLength(1));
    expect(Cart.fired[0]?.tick.scheduledAt).toBe(new Date(T0 + 3_000).toISOString());
  });

  it("reminders - operators list and cancel through the silo; cancelling all of a stream (purge) stops them", async () => {
    const clock = new ManualClock(T0);
    const stores = memoryStores();
    const silo = await startSilo(clock, stores);
    await silo.get(Cart, "c1").touch({ inMs: 1_000 }, "a");
    await silo.get(Cart, "c1").touch({ inMs: 1_000 }, "b");
    await silo.get(Cart, "c2").touch({ inMs: 1_000 }, "a");

    expect((await silo.reminders(Cart, "c1")).map((r) => r.name)).toEqual(["a", "b"]);
    expect(await silo.cancelReminder(Cart, "c1", "a")).toBe(true);
    expect(await stores.reminders.cancelAll("Cart/c2")).toBe(1);
    await advance(clock, 5_000);
    await vi.waitFor(() => expect(Cart.fired).toHaveLength(1));
    await advance(clock, 5_000);

    expect(Cart.fired.map((f) => `${f.actor}:${f.name}`)).toEqual(["c1:b"]);
  });

  it("reminders - a handler that throws is retried with the same tick id (at least once)", async () => {
    const clock = new ManualClock(T0);
    const silo = await startSilo(clock, memoryStores());
    Cart.failuresLeft = 2;
    await silo.get(Cart, "c1").touch({ inMs: 1_000 });

    await advance(clock, 1_500);
    expect(Cart.fired).toEqual([]);
    await advance(clock, 5_000);
    await vi.waitFor(() => expect(Cart.fired).toHaveLength(1));
    await advance(clock, 5_000);

    expect(Cart.fired).toHaveLength(1);
    expect(await silo.get(Cart, "c1").expiredCount()).toBe(1);
  });

  it("reminders - bad options and a class without onReminder are refused with INVALID_ARGUMENT", async () => {
    const clock = new ManualClock(T0);
    const silo = await startSilo(clock, memoryStores());
    const cart = silo.get(Cart, "c1");

    await expect(cart.touch({})).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: /exactly one of/ });
    await expect(cart.touch({ inMs: 1, at: T0 })).rejects.toMatchObject({ message: /exactly one of/ });
    await expect(cart.touch({ inMs: -5 })).rejects.toMatchObject({ message: /inMs/ });
    await expect(cart.touch({ at: "not a date" })).rejects.toMatchObject({ message: /at must be/ });
    await expect(cart.touch({ inMs: 1, periodMs: 10 })).rejects.toMatchObject({ message: /periodMs/ });
    await expect(cart.touch({ inMs: 1, missed: "never" as MissedTickPolicy })).rejects.toMatchObject({
      message: /missed/,
    });
    await expect(silo.get(NoHandler, "n").schedule()).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: /onReminder/,
    });
  });

  it("reminders - a reminder registered, then the silo restarted, fires once (SQLite)", async () => {
    const clock = new ManualClock(T0);
    const path = join(dir, `${randomUUID()}.db`);
    const open = (): Stores => ({
      store: new SqliteEventStore({ path }),
      snapshots: new SqliteSnapshotStore({ path }),
      reminders: new SqliteReminderStore({ path }),
    });
    const first = open();
    const silo = await startSilo(clock, first);
    await silo.get(Cart, "c1").touch({ inMs: 10_000 });
    await silo.stop();
    await Promise.all([first.store.close(), first.snapshots.close(), first.reminders.close()]);

    const second = open();
    const restarted = await startSilo(clock, second);
    await advance(clock, 11_000);
    await vi.waitFor(() => expect(Cart.fired).toHaveLength(1));
    await advance(clock, 20_000);

    expect(Cart.fired).toHaveLength(1);
    expect(await restarted.get(Cart, "c1").expiredCount()).toBe(1);
    await restarted.stop();
    await Promise.all([second.store.close(), second.snapshots.close(), second.reminders.close()]);
  });

  describe("missed ticks after 10 s of downtime (period 1 s)", () => {
    async function downtime(missed: MissedTickPolicy): Promise<{ catchUp: Fired[]; after: Fired[] }> {
      const clock = new ManualClock(T0);
      const stores = memoryStores();
      const silo = await startSilo(clock, stores);
      await silo.get(Cart, "c1").touch({ inMs: 1_000, periodMs: 1_000, missed });
      await advance(clock, 1_100);
      await vi.waitFor(() => expect(Cart.fired).toHaveLength(1));
      await silo.stop();
      Cart.fired = [];

      clock.advance(10_000); // no silo runs: the ticks due at 2 s … 11 s are missed
      const restarted = await startSilo(clock, stores);
      await advance(clock, 300);
      await vi.waitFor(async () => {
        const next = await restarted.reminders(Cart, "c1");
        expect(Date.parse(next[0]?.dueAt ?? "")).toBeGreaterThan(clock.now());
      });
      const catchUp = Cart.fired;
      Cart.fired = [];
      await advance(clock, 1_000);
      await vi.waitFor(() => expect(Cart.fired.length).toBeGreaterThan(0));
      return { catchUp, after: Cart.fired };
    }
    const at = (seconds: number): string => new Date(T0 + seconds * 1_000).toISOString();

    it('missed - "fire-once" fires one catch-up tick standing for the missed ones, then resumes', async () => {
      const { catchUp, after } = await downtime("fire-once");

      expect(catchUp.map((f) => f.tick)).toEqual([{ id: expect.any(String), scheduledAt: at(2), missedTicks: 9 }]);
      expect(after.map((f) => f.tick.scheduledAt)).toEqual([at(12)]);
    });

    it('missed - "skip" fires nothing for the missed ticks; the next future tick fires', async () => {
      const { catchUp, after } = await downtime("skip");

      expect(catchUp).toEqual([]);
      expect(after.map((f) => [f.tick.scheduledAt, f.tick.missedTicks])).toEqual([[at(12), 0]]);
    });

    it('missed - "fire-all" fires every missed tick in order, then resumes', async () => {
      const { catchUp, after } = await downtime("fire-all");

      expect(catchUp.map((f) => f.tick.scheduledAt)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(at));
      expect(new Set(catchUp.map((f) => f.tick.id)).size).toBe(10);
      expect(after.map((f) => f.tick.scheduledAt)).toEqual([at(12)]);
    });
  });
});
