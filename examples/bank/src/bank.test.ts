import { ConnectionError, ManualClock, MemoryEventStore, MemorySnapshotStore } from "@granary/core";
import { Silo } from "@granary/runtime";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Account, bankActors, bankErrors, InsufficientFunds, Transfer } from "./index.js";

const silos: Silo[] = [];
const logger = pino({ level: "silent" });

async function start(store = new MemoryEventStore(), clock?: ManualClock): Promise<Silo> {
  const silo = await Silo.start({
    actors: bankActors,
    errors: bankErrors,
    store,
    snapshots: new MemorySnapshotStore(),
    logger,
    ...(clock ? { clock } : {}),
  });
  silos.push(silo);
  return silo;
}

afterEach(async () => {
  await Promise.all(silos.splice(0).map((s) => s.stop()));
});

describe("bank example", () => {
  it("a hold reserves money until its reminder releases it when it expires", async () => {
    const clock = new ManualClock();
    const store = new MemoryEventStore();
    const silo = await start(store, clock);
    const account = silo.get(Account, "a");
    await account.open("A");
    await account.deposit(100);

    expect(await account.placeHold("card-1", 60, 30 * 60_000)).toBe(40);
    await expect(account.withdraw(50)).rejects.toBeInstanceOf(InsufficientFunds);
    expect(await silo.reminders(Account, "a")).toMatchObject([{ name: "hold:card-1" }]);
    // The reminder service polls on the silo's clock: move it in steps so each poll's work runs.
    for (let minute = 0; minute <= 30; minute++) {
      clock.advance(60_000);
      await new Promise((resolve) => setImmediate(resolve));
    }

    await vi.waitFor(async () => expect(await account.heldAmount()).toBe(0));
    expect(await account.withdraw(50)).toBe(50);
    expect((await store.read("Account/a")).map((e) => e.type)).toContain("HoldReleased");
    expect(await silo.reminders(Account, "a")).toEqual([]);
  });

  it("releasing a hold early cancels its reminder", async () => {
    const silo = await start();
    const account = silo.get(Account, "a");
    await account.open("A");
    await account.deposit(100);
    await account.placeHold("card-1", 60, 30 * 60_000);

    expect(await account.releaseHold("card-1")).toBe(true);

    expect(await account.available()).toBe(100);
    expect(await silo.reminders(Account, "a")).toEqual([]);
    expect(await account.releaseHold("card-1")).toBe(false);
  });

  it("a transfer moves money between accounts through actor-to-actor calls", async () => {
    const silo = await start();
    await silo.get(Account, "a").open("A");
    await silo.get(Account, "b").open("B");
    await silo.get(Account, "a").deposit(100);
    const result = await silo.get(Transfer, "t1").execute("a", "b", 30);
    expect(result.status).toBe("completed");
    expect(await silo.get(Account, "a").balance()).toBe(70);
    expect(await silo.get(Account, "b").balance()).toBe(30);
  });

  it("a transfer beyond the balance is rejected and moves nothing", async () => {
    const silo = await start();
    await silo.get(Account, "a").open("A");
    await silo.get(Account, "b").open("B");
    const result = await silo.get(Transfer, "t1").execute("a", "b", 30);
    expect(result).toMatchObject({ status: "rejected", reason: expect.stringContaining("cannot withdraw 30") });
    expect(await silo.get(Account, "b").balance()).toBe(0);
  });

  it("a transfer to an account that is not open refunds the source", async () => {
    const silo = await start();
    await silo.get(Account, "a").open("A");
    await silo.get(Account, "a").deposit(50);
    const result = await silo.get(Transfer, "t1").execute("a", "nobody", 20);
    expect(result).toMatchObject({ status: "refunded" });
    expect(await silo.get(Account, "a").balance()).toBe(50);
  });

  it("re-executing a transfer that failed mid-way resumes it and never moves money twice", async () => {
    const store = new MemoryEventStore();
    // The store fails the first write to bob's stream, as a crash or outage between saga steps would.
    let failNextCredit = true;
    const append: MemoryEventStore["append"] = async (stream, expected, events, options) => {
      if (stream === "Account/b" && expected >= 1 && failNextCredit) {
        failNextCredit = false;
        throw new ConnectionError("store unreachable", { retryable: true });
      }
      return store.append(stream, expected, events, options);
    };
    const flaky = new Proxy(store, {
      get: (target, property) => {
        if (property === "append") return append;
        const value = Reflect.get(target, property) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const silo = await start(flaky);
    await silo.get(Account, "a").open("A");
    await silo.get(Account, "b").open("B");
    await silo.get(Account, "a").deposit(100);
    await expect(silo.get(Transfer, "t1").execute("a", "b", 40)).rejects.toMatchObject({ code: "CONNECTION_ERROR" });
    expect(await silo.get(Transfer, "t1").status()).toMatchObject({ status: "debited" });
    expect(await silo.get(Account, "a").balance()).toBe(60);
    // The retry resumes at the credit step: the debit leg is not applied again.
    expect((await silo.get(Transfer, "t1").execute("a", "b", 40)).status).toBe("completed");
    expect(await silo.get(Account, "a").balance()).toBe(60);
    expect(await silo.get(Account, "b").balance()).toBe(40);
    expect(await silo.get(Account, "a").withdraw(40, "t1:debit")).toBe(60);
  });

  it("persist() makes a saga step durable even if the rest of the turn fails", async () => {
    const store = new MemoryEventStore();
    const silo = await start(store);
    await silo.get(Account, "a").open("A");
    await silo.get(Account, "a").deposit(10);
    // The target account does not exist and the refund path succeeds; the requested step was persisted first.
    await silo.get(Transfer, "t1").execute("a", "ghost", 5);
    const types = (await store.read("Transfer/t1")).map((e) => e.type);
    expect(types).toEqual(["TransferRequested", "SourceDebited", "SourceRefunded"]);
  });

  it("withdrawing too much fails with InsufficientFunds; history carries who and correlation", async () => {
    const silo = await start();
    const account = silo.get(Account, "a", { userId: "teller", correlationId: "req-1" });
    await account.open("A");
    await account.deposit(5);
    await expect(account.withdraw(6)).rejects.toBeInstanceOf(InsufficientFunds);
    const history = await account.history();
    expect(history.map((h) => [h.version, h.type, h.userId, h.correlationId])).toEqual([
      [1, "AccountOpened", "teller", "req-1"],
      [2, "MoneyDeposited", "teller", "req-1"],
    ]);
  });
});
