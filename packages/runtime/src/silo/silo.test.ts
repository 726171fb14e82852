import { Actor, type ActorRef, ManualClock, MemoryEventStore, MemorySnapshotStore } from "@granary/core";
import { pino } from "pino";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { Account, Counter } from "../__fixtures__/actors.js";
import { Silo } from "./silo.js";
import { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, resolveSiloOptions } from "./silo-options.js";

const silent = pino({ level: "silent" });
const silos: Silo[] = [];

async function startSilo(options: Partial<Parameters<typeof Silo.start>[0]> = {}): Promise<Silo> {
  const silo = await Silo.start({
    actors: [Account, Counter],
    store: new MemoryEventStore(),
    snapshots: new MemorySnapshotStore(),
    logger: silent,
    ...options,
  });
  silos.push(silo);
  return silo;
}

afterEach(async () => {
  await Promise.all(silos.splice(0).map((s) => s.stop()));
});

describe("silo options", () => {
  it("defaults: 15 min idle timeout, 30 s call timeout, ./.granary data dir, frozen state outside production", () => {
    const resolved = resolveSiloOptions({ actors: [Account] }, {});
    expect(resolved).toMatchObject({
      idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
      callTimeoutMs: DEFAULT_CALL_TIMEOUT_MS,
      collectionIntervalMs: 60_000,
      dataDir: "./.granary",
      freezeState: true,
      logLevel: "info",
    });
    expect(DEFAULT_IDLE_TIMEOUT_MS).toBe(900_000);
    expect(DEFAULT_CALL_TIMEOUT_MS).toBe(30_000);
    expect(resolveSiloOptions({ actors: [Account] }, { NODE_ENV: "production" }).freezeState).toBe(false);
  });

  it("environment variables apply when the option is not given, and options win over them", () => {
    const env = { GRANARY_IDLE_TIMEOUT_MS: "1000", GRANARY_CALL_TIMEOUT_MS: "250", GRANARY_DATA_DIR: "/tmp/g" };
    expect(resolveSiloOptions({ actors: [Account] }, env)).toMatchObject({
      idleTimeoutMs: 1000,
      callTimeoutMs: 250,
      dataDir: "/tmp/g",
      collectionIntervalMs: 500,
    });
    expect(resolveSiloOptions({ actors: [Account], callTimeoutMs: 9 }, env).callTimeoutMs).toBe(9);
  });

  it.each([
    [{ actors: [] }, "actors"],
    [{ actors: [Account], callTimeoutMs: -1 }, "callTimeoutMs"],
    [{ actors: [Account], idleTimeoutMs: 1.5 }, "idleTimeoutMs"],
    [{ actors: [Account], snapshots: new MemorySnapshotStore() }, "snapshots"],
  ])("rejects %o with an error naming `%s`", (options, option) => {
    expect(() => resolveSiloOptions(options as never, {})).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIGURATION", data: { option } }),
    );
  });

  it("rejects a bad environment value naming the option", () => {
    expect(() => resolveSiloOptions({ actors: [Account] }, { GRANARY_CALL_TIMEOUT_MS: "soon" })).toThrow(
      /callTimeoutMs/,
    );
    expect(() => resolveSiloOptions({ actors: [Account] }, { GRANARY_LOG_LEVEL: "loud" })).toThrow(/GRANARY_LOG_LEVEL/);
  });

  it("rejects an actor class without a static type, naming the fix", async () => {
    class Nameless extends Actor {
      static readonly type: string = "";
      async ping(): Promise<void> {}
    }
    await expect(Silo.start({ actors: [Nameless], store: new MemoryEventStore(), logger: silent })).rejects.toThrow(
      /static readonly type/,
    );
  });

  it("rejects two classes with the same type", async () => {
    class Twin extends Counter {}
    class OtherTwin extends Actor {
      static readonly type = "Counter";
      async ping(): Promise<void> {}
    }
    await expect(
      Silo.start({ actors: [Twin, OtherTwin], store: new MemoryEventStore(), logger: silent }),
    ).rejects.toThrow(/both use type "Counter"/);
  });
});

describe("calls", () => {
  it("an unknown actor type fails with UNKNOWN_ACTOR_TYPE listing the registered ones", async () => {
    const silo = await startSilo({ actors: [Counter] });
    await expect(silo.get(Account, "x").balance()).rejects.toMatchObject({
      code: "UNKNOWN_ACTOR_TYPE",
      message: expect.stringContaining("registered: Counter"),
    });
  });

  it("an unknown or non-public method fails with UNKNOWN_METHOD", async () => {
    const silo = await startSilo();
    const ref = silo.get(Counter, "c") as unknown as Record<string, () => Promise<unknown>>;
    await expect(ref.nope?.()).rejects.toMatchObject({ code: "UNKNOWN_METHOD" });
    await expect(ref.onActivate?.()).rejects.toMatchObject({ code: "UNKNOWN_METHOD" });
    await expect(
      (silo.get(Account, "a") as unknown as Record<string, () => Promise<unknown>>).apply?.(),
    ).rejects.toMatchObject({
      code: "UNKNOWN_METHOD",
    });
  });

  it("a reference is not thenable, so it can be awaited or returned from async code", async () => {
    const silo = await startSilo();
    const ref = await Promise.resolve(silo.get(Counter, "c"));
    expect(await ref.increment()).toBe(1);
  });

  it("a bad id is rejected when the reference is made", async () => {
    const silo = await startSilo();
    expect(() => silo.get(Counter, "")).toThrow(/actor id "" of Counter must not be empty/);
  });

  it("a call that does not finish in its timeout fails with CALL_TIMEOUT", async () => {
    const clock = new ManualClock();
    const silo = await startSilo({ clock });
    const pending = silo.get(Counter, "c", { timeoutMs: 100 }).sleep(300);
    const settled = pending.catch((e: unknown) => e);
    await expect.poll(() => silo.activationCount).toBe(1);
    clock.advance(200);
    expect(await settled).toMatchObject({ code: "CALL_TIMEOUT", data: { method: "sleep", timeoutMs: 100 } });
  });

  it("the ActorRef type exposes exactly the actor's public async methods", () => {
    expectTypeOf<ActorRef<Account>["deposit"]>().toEqualTypeOf<(amount: number) => Promise<number>>();
    expectTypeOf<ActorRef<Counter>>().toHaveProperty("increment");
    expectTypeOf<ActorRef<Counter>>().not.toHaveProperty("syncMethod");
    expectTypeOf<ActorRef<Account>>().not.toHaveProperty("state");
    expectTypeOf<ActorRef<Account>>().not.toHaveProperty("apply");
    expectTypeOf<ActorRef<Account>>().not.toHaveProperty("version");
    expectTypeOf<ActorRef<Account>>().not.toHaveProperty("id");
    expectTypeOf<ActorRef<Counter>>().not.toHaveProperty("onActivate");
  });
});

describe("lifecycle", () => {
  it("idle activations are deactivated after idleTimeoutMs (fake clock), running onDeactivate", async () => {
    const clock = new ManualClock();
    const silo = await startSilo({ clock, idleTimeoutMs: 10_000 });
    const before = Counter.deactivations;
    await silo.get(Counter, "idle").increment();
    await silo.get(Counter, "idle").increment();
    clock.advance(4_000);
    await silo.get(Counter, "busy").increment();
    clock.advance(6_000); // "idle" has been idle 10 s, "busy" only 6 s.
    await expect.poll(() => silo.activationCount).toBe(1);
    expect(Counter.deactivations).toBe(before + 1);
    // Volatile state is gone with the activation.
    expect(await silo.get(Counter, "idle").increment()).toBe(1);
    expect(await silo.get(Counter, "busy").increment()).toBe(2);
  });

  it("an activation with a call in progress is not collected", async () => {
    const clock = new ManualClock();
    const silo = await startSilo({ clock, idleTimeoutMs: 1_000 });
    const sleeping = silo.get(Counter, "s").sleep(50);
    await expect.poll(() => silo.activationCount).toBe(1);
    clock.advance(5_000);
    expect(silo.activationCount).toBe(1);
    expect(await sleeping).toBe("s");
  });

  it("stop() lets accepted calls finish, then refuses new ones with SHUTTING_DOWN, not retryable for its own references", async () => {
    const silo = await startSilo();
    const accepted = Promise.all([
      silo.get(Counter, "a").sleep(30),
      silo.get(Counter, "a").sleep(30),
      silo.get(Counter, "b").sleep(30),
    ]);
    await expect.poll(() => silo.activationCount).toBe(2);
    const stopped = silo.stop();
    // The caller holds a reference of this silo only: retrying through it can never succeed.
    const refused = await silo
      .get(Counter, "c")
      .increment()
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "SHUTTING_DOWN", retryable: false });
    expect((refused as Error).message).toMatch(/nothing ran/);
    expect(await accepted).toEqual(["a", "a", "b"]);
    await stopped;
    expect(silo.activationCount).toBe(0);
  });

  it("stop() takes a final snapshot of event-sourced actors", async () => {
    class Snap extends Account {
      static override readonly type = "Account";
      static override snapshotEvery = 1_000;
    }
    const snapshots = new MemorySnapshotStore();
    const silo = await startSilo({ actors: [Snap], snapshots });
    await silo.get(Snap, "a").deposit(3);
    await silo.stop();
    expect(await snapshots.load("Account/a")).toMatchObject({ version: 1, snapshotVersion: 1, state: { balance: 3 } });
  });
});

describe("methods that are not async", () => {
  it("a public method that is not async still answers through a reference that bypasses the types", async () => {
    const silo = await startSilo();
    const ref = silo.get(Counter, "sync") as unknown as Record<string, () => Promise<unknown>>;
    await silo.get(Counter, "sync").increment();
    expect(await ref.syncMethod?.()).toBe(1);
  });
});
