import { Actor, EventSourcedActor, ManualClock, MemoryEventStore, MemorySnapshotStore } from "@granary/core";
import fc from "fast-check";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Silo } from "../silo/silo.js";

const silent = pino({ level: "silent" });
const silos: Silo[] = [];

/** Yields to the event loop `n` times, so a turn spans many other callbacks. */
async function yieldTimes(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

class Watcher extends Actor {
  static readonly type = "Watcher";
  static log: string[] = [];
  static overlaps = 0;
  #busy = false;
  ticks = 0;

  async watch(periodMs: number, keepAlive = false): Promise<void> {
    this.setTimer("poll", { dueMs: periodMs, periodMs, keepAlive }, () => this.#tick());
  }

  async once(dueMs: number): Promise<void> {
    this.setTimer("once", { dueMs }, () => {
      Watcher.log.push(`once:${this.id}`);
    });
  }

  async stop(): Promise<boolean> {
    return this.cancelTimer("poll");
  }

  async names(): Promise<string[]> {
    return this.timers();
  }

  async tickCount(): Promise<number> {
    return this.ticks;
  }

  /** A call that holds its turn across several event-loop turns. */
  async work(steps: number): Promise<void> {
    if (this.#busy) Watcher.overlaps++;
    this.#busy = true;
    await yieldTimes(steps);
    this.#busy = false;
  }

  async failing(): Promise<void> {
    this.setTimer("fails", { dueMs: 10, periodMs: 10 }, () => {
      this.ticks++;
      throw new Error("tick failed");
    });
  }

  async bad(options: unknown): Promise<void> {
    this.setTimer("bad", options as never, () => {});
  }

  async #tick(): Promise<void> {
    if (this.#busy) Watcher.overlaps++;
    this.#busy = true;
    this.ticks++;
    Watcher.log.push(`tick:${this.id}`);
    await yieldTimes(2);
    this.#busy = false;
  }
}

type LedgerEvent = { type: "Ticked"; n: number };
class Ledger extends EventSourcedActor<{ ticks: number }, LedgerEvent> {
  static readonly type = "Ledger";
  initialState() {
    return { ticks: 0 };
  }
  apply(state: { ticks: number }, event: LedgerEvent) {
    return { ticks: state.ticks + event.n };
  }
  async start(): Promise<void> {
    this.setTimer("tick", { dueMs: 100, periodMs: 100 }, () => this.raise({ type: "Ticked", n: 1 }));
  }
  async ticks(): Promise<number> {
    return this.state.ticks;
  }
}

async function startSilo(clock: ManualClock, idleTimeoutMs = 60_000) {
  const store = new MemoryEventStore();
  const silo = await Silo.start({
    actors: [Watcher, Ledger],
    store,
    snapshots: new MemorySnapshotStore(),
    logger: silent,
    clock,
    idleTimeoutMs,
  });
  silos.push(silo);
  return { silo, store };
}

afterEach(async () => {
  await Promise.all(silos.splice(0).map((s) => s.stop()));
  Watcher.log = [];
  Watcher.overlaps = 0;
});

describe("timers", () => {
  it("timers - a periodic timer ticks on the silo's clock until cancelled", async () => {
    const clock = new ManualClock();
    const { silo } = await startSilo(clock);
    const watcher = silo.get(Watcher, "w");
    await watcher.watch(1_000);
    expect(await watcher.names()).toEqual(["poll"]);

    clock.advance(999);
    expect(await watcher.tickCount()).toBe(0);
    for (let i = 1; i <= 3; i++) {
      clock.advance(1_000);
      await vi.waitFor(async () => expect(await watcher.tickCount()).toBe(i));
    }
    expect(await watcher.stop()).toBe(true);
    clock.advance(10_000);
    await yieldTimes(5);

    expect(await watcher.tickCount()).toBe(3);
    expect(await watcher.names()).toEqual([]);
    expect(await watcher.stop()).toBe(false);
  });

  it("timers - a one-shot timer ticks once and is gone", async () => {
    const clock = new ManualClock();
    const { silo } = await startSilo(clock);
    await silo.get(Watcher, "w").once(50);

    clock.advance(50);
    await vi.waitFor(() => expect(Watcher.log).toEqual(["once:w"]));
    clock.advance(500);
    await yieldTimes(5);

    expect(Watcher.log).toEqual(["once:w"]);
    expect(await silo.get(Watcher, "w").names()).toEqual([]);
  });

  it("timers - events raised in a tick commit like a command's", async () => {
    const clock = new ManualClock();
    const { silo, store } = await startSilo(clock);
    await silo.get(Ledger, "l").start();

    clock.advance(100);
    await vi.waitFor(async () => expect(await store.latestVersion("Ledger/l")).toBe(1));
    clock.advance(100);
    await vi.waitFor(async () => expect(await store.latestVersion("Ledger/l")).toBe(2));

    expect(await silo.get(Ledger, "l").ticks()).toBe(2);
    const events = await store.read("Ledger/l");
    expect(events.map((e) => e.type)).toEqual(["Ticked", "Ticked"]);
  });

  it("timers - a tick that throws is logged and the timer keeps ticking", async () => {
    const clock = new ManualClock();
    const { silo } = await startSilo(clock);
    const watcher = silo.get(Watcher, "w");
    await watcher.failing();

    for (let i = 1; i <= 3; i++) {
      clock.advance(10);
      await vi.waitFor(async () => expect(await watcher.tickCount()).toBe(i));
    }
  });

  it("timers - invalid options are refused with INVALID_ARGUMENT naming the option", async () => {
    const clock = new ManualClock();
    const { silo } = await startSilo(clock);
    const watcher = silo.get(Watcher, "w");

    await expect(watcher.bad({ dueMs: -1 })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/dueMs/),
    });
    await expect(watcher.bad({ dueMs: 0, periodMs: 0 })).rejects.toMatchObject({
      message: expect.stringMatching(/periodMs/),
    });
    await expect(watcher.bad({ dueMs: 0, keepAlive: "yes" })).rejects.toMatchObject({
      message: expect.stringMatching(/keepAlive/),
    });
  });

  it("timers - are cancelled on deactivation: nothing ticks afterwards", async () => {
    const clock = new ManualClock();
    const { silo } = await startSilo(clock, 10_000);
    await silo.get(Watcher, "w").watch(20_000);

    clock.advance(15_000);
    await vi.waitFor(() => expect(silo.activationCount).toBe(0));
    clock.advance(120_000);
    await yieldTimes(5);

    expect(Watcher.log).toEqual([]);
    expect(silo.activationCount).toBe(0);
  });

  it("timers - a tick is not activity: without keepAlive a ticking actor is still collected when idle", async () => {
    const clock = new ManualClock();
    const { silo } = await startSilo(clock, 10_000);
    await silo.get(Watcher, "w").watch(1_000);

    for (let i = 0; i < 20 && silo.activationCount > 0; i++) {
      clock.advance(1_000);
      await yieldTimes(3);
    }

    expect(silo.activationCount).toBe(0);
    expect(Watcher.log.length).toBeGreaterThan(5);
  });

  it("timers - keepAlive keeps the actor from idle collection while the timer is set", async () => {
    const clock = new ManualClock();
    const { silo } = await startSilo(clock, 10_000);
    const watcher = silo.get(Watcher, "w");
    await watcher.watch(1_000, true);

    for (let i = 0; i < 40; i++) {
      clock.advance(1_000);
      await yieldTimes(3);
    }
    expect(silo.activationCount).toBe(1);
    expect(await watcher.tickCount()).toBeGreaterThan(30);

    await watcher.stop();
    clock.advance(60_000);
    await vi.waitFor(() => expect(silo.activationCount).toBe(0));
  });

  it("timers - ticks never interleave with a turn, whatever calls run concurrently (property)", async () => {
    const action = fc.oneof(
      fc.record({ kind: fc.constant("call" as const), steps: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant("yield" as const), n: fc.integer({ min: 0, max: 4 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 40 }), async (actions) => {
        Watcher.overlaps = 0;
        const clock = new ManualClock();
        const { silo } = await startSilo(clock);
        const watcher = silo.get(Watcher, `w-${silos.length}`);
        await watcher.watch(5);
        const calls: Promise<void>[] = [];
        for (const step of actions) {
          if (step.kind === "call") calls.push(watcher.work(step.steps));
          else if (step.kind === "advance") clock.advance(step.ms);
          else await yieldTimes(step.n);
        }
        await Promise.all(calls);
        clock.advance(20);
        await yieldTimes(10);
        await silo.stop();
        expect(Watcher.overlaps).toBe(0);
      }),
      { numRuns: 60 },
    );
  });
});
