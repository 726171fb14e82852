import { ManualClock, MemoryEventStore, MemorySnapshotStore } from "@granary/core";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Account, Counter } from "../__fixtures__/actors.js";
import { DEFAULT_MAX_BUFFERED_FRAME_BYTES, DEFAULT_PARTIAL_FRAME_TIMEOUT_MS } from "../messaging/transport-options.js";
import { Silo } from "../silo/silo.js";
import { ActivationSlots } from "./activation-slots.js";
import {
  DEFAULT_MAX_CALLS_IN_FLIGHT,
  DEFAULT_MAX_CALLS_IN_FLIGHT_PER_CONNECTION,
  DEFAULT_MAX_CONCURRENT_ACTIVATIONS,
  DEFAULT_MAX_EVENT_LOOP_DELAY_MS,
  DEFAULT_MAX_QUEUE_DELAY_MS,
  resolveAdmissionOptions,
} from "./admission-options.js";

const silos: Silo[] = [];

async function startSilo(options: Partial<Parameters<typeof Silo.start>[0]> = {}): Promise<Silo> {
  const silo = await Silo.start({
    actors: [Account, Counter],
    store: new MemoryEventStore(),
    snapshots: new MemorySnapshotStore(),
    logger: pino({ level: "silent" }),
    ...options,
  });
  silos.push(silo);
  return silo;
}

afterEach(async () => {
  await Promise.all(silos.splice(0).map((s) => s.stop()));
});

describe("admission options", () => {
  it("defaults: 20,000 calls in flight, 10,000 per connection, 128 loading activations, 5 s queue, loop delay from the lease", () => {
    expect(resolveAdmissionOptions({}, {}, undefined)).toEqual({
      maxCallsInFlight: DEFAULT_MAX_CALLS_IN_FLIGHT,
      maxCallsInFlightPerConnection: DEFAULT_MAX_CALLS_IN_FLIGHT_PER_CONNECTION,
      maxConcurrentActivations: DEFAULT_MAX_CONCURRENT_ACTIVATIONS,
      maxQueueDelayMs: DEFAULT_MAX_QUEUE_DELAY_MS,
      maxEventLoopDelayMs: DEFAULT_MAX_EVENT_LOOP_DELAY_MS,
      maxBufferedFrameBytes: DEFAULT_MAX_BUFFERED_FRAME_BYTES,
      partialFrameTimeoutMs: DEFAULT_PARTIAL_FRAME_TIMEOUT_MS,
    });
    expect(DEFAULT_MAX_CALLS_IN_FLIGHT).toBe(20_000);
    expect(DEFAULT_MAX_BUFFERED_FRAME_BYTES).toBe(128 * 1024 * 1024);
    expect(DEFAULT_PARTIAL_FRAME_TIMEOUT_MS).toBe(30_000);
    expect(
      resolveAdmissionOptions({}, { GRANARY_PARTIAL_FRAME_TIMEOUT_MS: "5000" }, undefined).partialFrameTimeoutMs,
    ).toBe(5_000);
    expect(resolveAdmissionOptions({}, {}, 3_000).maxEventLoopDelayMs).toBe(500);
    expect(resolveAdmissionOptions({}, { GRANARY_MAX_CALLS_IN_FLIGHT: "7" }, undefined).maxCallsInFlight).toBe(7);
  });

  it("an invalid limit fails naming the option", () => {
    expect(() => resolveAdmissionOptions({ maxCallsInFlight: 0 }, {}, undefined)).toThrow(/`maxCallsInFlight`/);
    expect(() => resolveAdmissionOptions({ maxConcurrentActivations: 1.5 }, {}, undefined)).toThrow(
      /`maxConcurrentActivations`.*positive integer/,
    );
    expect(() => resolveAdmissionOptions({}, { GRANARY_MAX_QUEUE_DELAY_MS: "soon" }, undefined)).toThrow(
      /`maxQueueDelayMs`/,
    );
    expect(() => resolveAdmissionOptions({ maxBufferedFrameBytes: 1024 * 1024 }, {}, undefined)).toThrow(
      /`maxBufferedFrameBytes`.*below the largest frame/,
    );
    expect(() => resolveAdmissionOptions({ partialFrameTimeoutMs: -1 }, {}, undefined)).toThrow(
      /`partialFrameTimeoutMs`/,
    );
  });
});

describe("activation slots", () => {
  it("hands slots out in arrival order and sheds a waiter that waited too long", async () => {
    let now = 0;
    const slots = new ActivationSlots(
      1,
      50,
      () => new Error("shed"),
      () => now,
    );
    expect(slots.acquire()).toBeUndefined();
    const order: string[] = [];
    const first = slots.acquire()?.then(() => order.push("first"));
    now = 80;
    const second = slots.acquire()?.then(() => order.push("second"));
    slots.release(); // the first waited 80 ms > 50 ms: shed; the second gets the slot
    await expect(first).rejects.toThrow("shed");
    await second;
    expect(order).toEqual(["second"]);
    expect(slots.busy).toBe(1);
    slots.release();
    expect(slots.busy).toBe(0);
  });
});

describe("shedding at the silo's door", () => {
  it("above maxCallsInFlight a new call is refused with a retryable OVERLOADED that says nothing ran", async () => {
    const silo = await startSilo({ maxCallsInFlight: 2 });
    const held = [silo.get(Counter, "a").sleep(200), silo.get(Counter, "b").sleep(200)];
    const error = await silo
      .get(Counter, "c")
      .increment()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: "OverloadedError",
      code: "OVERLOADED",
      retryable: true,
      data: { limit: "maxCallsInFlight" },
    });
    expect((error as Error).message).toMatch(/nothing ran/);
    await Promise.all(held);
    // Shed calls ran nowhere: the actor was never activated, and takes the call now.
    expect(await silo.get(Counter, "c").increment()).toBe(1);
  });

  it("operators see the load: in-flight calls, calls shed, and an overloaded flag while it sheds", async () => {
    const silo = await startSilo({ maxCallsInFlight: 2 });
    expect(silo.admin.info().load).toMatchObject({
      overloaded: false,
      callsInFlight: 0,
      maxCallsInFlight: 2,
      shedTotal: 0,
    });
    const held = [silo.get(Counter, "a").sleep(200), silo.get(Counter, "b").sleep(200)];
    expect(silo.admin.info().load).toMatchObject({ overloaded: true, callsInFlight: 2 });
    await silo
      .get(Counter, "c")
      .increment()
      .catch(() => undefined);
    await Promise.all(held);
    const load = silo.admin.info().load;
    // Nothing in flight any more, but a call was shed moments ago: still flagged.
    expect(load).toMatchObject({
      overloaded: true,
      callsInFlight: 0,
      shedTotal: 1,
      eventLoopLagging: false,
      bufferedFrameBytes: 0,
    });
    expect(Date.parse(load.lastShedAt as string)).not.toBeNaN();
  });

  it("when a call was last shed is read on the silo's clock: a ManualClock moves lastShedAt and the overloaded flag", async () => {
    // Given a silo on a manual clock with room for one call, and that call running
    const clock = new ManualClock();
    const silo = await startSilo({ maxCallsInFlight: 1, clock });
    const held = silo.get(Counter, "a").sleep(50);
    // When a second call is shed
    const shedAt = clock.now();
    await silo
      .get(Counter, "b")
      .increment()
      .catch(() => undefined);
    await held;
    // Then the shed is stamped with the manual clock's time, and flags the silo for 10 s of that clock
    expect(silo.admin.info().load).toMatchObject({
      overloaded: true,
      shedTotal: 1,
      lastShedAt: new Date(shedAt).toISOString(),
    });
    clock.advance(9_999);
    expect(silo.admin.info().load.overloaded).toBe(true);
    clock.advance(1);
    expect(silo.admin.info().load).toMatchObject({ overloaded: false, lastShedAt: new Date(shedAt).toISOString() });
  });

  it("calls made by actors are never shed: admitted work can finish", async () => {
    const silo = await startSilo({ maxCallsInFlight: 1 });
    await silo.get(Account, "b").deposit(1);
    // One new chain fills the budget; its nested calls (A → B → A) still go through.
    expect(await silo.get(Account, "a").pingPong("b")).toBeTypeOf("number");
  });
});
