import { Actor, DomainError, EventSourcedActor } from "@granary/core";
import { Client, hashPlacement } from "@granary/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { TestCluster } from "./test-cluster.js";

class InsufficientFunds extends DomainError {
  constructor(balance: number, amount: number) {
    super("INSUFFICIENT_FUNDS", `balance ${balance} is less than ${amount}`, { data: { balance, amount } });
  }
}

type AccountEvent = { type: "Deposited"; amount: number } | { type: "Withdrawn"; amount: number };

class Account extends EventSourcedActor<{ balance: number }, AccountEvent> {
  static readonly type = "Account";

  initialState() {
    return { balance: 0 };
  }

  apply(state: { balance: number }, event: AccountEvent) {
    return { balance: state.balance + (event.type === "Deposited" ? event.amount : -event.amount) };
  }

  async deposit(amount: number): Promise<number> {
    this.raise({ type: "Deposited", amount });
    return this.state.balance;
  }

  async withdraw(amount: number): Promise<number> {
    if (amount > this.state.balance) throw new InsufficientFunds(this.state.balance, amount);
    this.raise({ type: "Withdrawn", amount });
    return this.state.balance;
  }

  /** Calls another account which calls back into this one (A → B → A). */
  async pingPong(otherId: string): Promise<number> {
    this.raise({ type: "Deposited", amount: 1 });
    return this.get(Account, otherId).callBack(this.id);
  }

  async callBack(originId: string): Promise<number> {
    this.raise({ type: "Deposited", amount: 10 });
    return this.get(Account, originId).deposit(100);
  }
}

class Counter extends Actor {
  static readonly type = "Counter";
  #count = 0;

  async increment(): Promise<number> {
    return ++this.#count;
  }
}

const actors = [Account, Counter];
const errors = [InsufficientFunds];
let cluster: TestCluster | undefined;
const strangers: Client[] = [];

afterEach(async () => {
  await Promise.allSettled(strangers.splice(0).map((c) => c.close()));
  await cluster?.stop();
  cluster = undefined;
});

describe("in-process cluster over TCP", () => {
  it("each actor has exactly one activation in the cluster, and activations spread over all silos", async () => {
    cluster = await TestCluster.start({ actors, errors, silos: 3 });
    const clients = [await cluster.client(), await cluster.client()];
    const count = 300;
    await Promise.all(
      Array.from({ length: count * 2 }, (_, i) => clients[i % 2]?.get(Account, `acc-${i % count}`).deposit(1)),
    );
    const owners = new Map<string, string>();
    for (const silo of cluster.silos) {
      for (const key of silo.activeActors()) {
        expect(owners.has(key), `${key} active on two silos`).toBe(false);
        owners.set(key, silo.siloId);
      }
      expect(silo.activationCount).toBeGreaterThan(count / 10);
    }
    expect(owners.size).toBe(count);
    for (let i = 0; i < count; i++) expect(await cluster.store.latestVersion(`Account/acc-${i}`)).toBe(2);
  });

  it("two silos racing to activate the same actor: one wins, the other forwards", async () => {
    cluster = await TestCluster.start({ actors, errors, silos: 2, placement: "local" });
    const [a, b] = cluster.silos as [NonNullable<TestCluster["silos"][0]>, NonNullable<TestCluster["silos"][0]>];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).get(Counter, "contested").increment()),
    );
    expect(results.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(a.activationCount + b.activationCount).toBe(1);
  });

  it("domain errors cross the wire with their class, name, code and message", async () => {
    cluster = await TestCluster.start({ actors, errors, silos: 1 });
    const client = await cluster.client();
    const error = await client
      .get(Account, "poor")
      .withdraw(5)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientFunds);
    expect(error).toMatchObject({ name: "InsufficientFunds", code: "INSUFFICIENT_FUNDS", data: { amount: 5 } });
  });

  it("actor-to-actor calls across silos keep reentrancy (A → B → A on different silos)", async () => {
    cluster = await TestCluster.start({ actors, errors, silos: 2, placement: "hash" });
    const [a, b] = cluster.silos as [NonNullable<TestCluster["silos"][0]>, NonNullable<TestCluster["silos"][0]>];
    // Two ids that hash to different silos, so the chain crosses the wire both ways.
    const live = [a.siloId, b.siloId];
    const placeOf = (id: string) =>
      hashPlacement.place({ actorKey: `Account/${id}`, self: a.siloId, fromActor: false, live });
    const x = "x";
    const y = Array.from({ length: 100 }, (_, i) => `y${i}`).find((id) => placeOf(id) !== placeOf(x)) as string;
    expect(await a.get(Account, x).pingPong(y)).toBe(101);
    expect(a.activeActors().length).toBe(1);
    expect(b.activeActors().length).toBe(1);
  });

  it("a gracefully stopped silo's actors re-activate on the others with their history", async () => {
    cluster = await TestCluster.start({ actors, errors, silos: 2 });
    const client = await cluster.client();
    const ids = Array.from({ length: 40 }, (_, i) => `a-${i}`);
    await Promise.all(ids.map((id) => client.get(Account, id).deposit(5)));
    const [leaving, staying] = cluster.silos as [
      NonNullable<TestCluster["silos"][0]>,
      NonNullable<TestCluster["silos"][0]>,
    ];
    expect(leaving.activeActors().length).toBeGreaterThan(0);
    await leaving.stop();
    const balances = await Promise.all(ids.map((id) => client.get(Account, id).deposit(1)));
    expect(balances).toEqual(ids.map(() => 6));
    expect(staying.activationCount).toBe(40);
  });

  it("ownerCacheSize 0: the client learns no owners and every call goes to the next gateway, which forwards most", async () => {
    cluster = await TestCluster.start({ actors, errors, silos: 3 });
    const client = await cluster.client({ ownerCacheSize: 0 });

    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 30 }, (_, i) => client.get(Counter, `c-${i}`).increment()));
    }

    expect(client.routing).toEqual({ callsSent: 90, callsToKnownOwner: 0, ownersKnown: 0 });
    const routing = cluster.silos.map((silo) => silo.admin.info().routing);
    expect(routing.reduce((sum, r) => sum + r.clientCalls, 0)).toBe(90);
    // Round robin over 3 silos: about two calls in three land away from their owner.
    expect(routing.reduce((sum, r) => sum + r.clientCallsForwarded, 0)).toBeGreaterThan(20);
  });

  it("a wrong cluster key cannot call", async () => {
    cluster = await TestCluster.start({ actors, errors, silos: 1 });
    const intruder = await Client.connect({
      membership: cluster.membership,
      clusterKey: "definitely-not-the-right-key!!",
    });
    strangers.push(intruder);
    await expect(intruder.get(Counter, "c").increment()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});
