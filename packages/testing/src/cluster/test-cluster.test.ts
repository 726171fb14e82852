import { Actor } from "@granary/core";
import { afterEach, describe, expect, it } from "vitest";
import { TestCluster } from "./test-cluster.js";

class Greeter extends Actor {
  static readonly type = "Greeter";
  #count = 0;
  async greet(name: string): Promise<string> {
    this.#count++;
    return `hello ${name} (#${this.#count} from ${this.id})`;
  }
}

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
});

describe("TestCluster", () => {
  it("runs N silos in one process over real TCP, and a client spreads actors over them", async () => {
    cluster = await TestCluster.start({ actors: [Greeter], silos: 3 });
    const client = await cluster.client();
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => client.get(Greeter, `g${i}`).greet("x")));
    expect(replies[5]).toBe("hello x (#1 from g5)");
    const owners = cluster.placements();
    expect(owners.size).toBe(60);
    expect(new Set(owners.values()).size).toBe(3);
  });

  it("a silo added later takes part, and a stopped silo's actors move", async () => {
    cluster = await TestCluster.start({ actors: [Greeter], silos: 1 });
    const client = await cluster.client();
    const late = await cluster.addSilo();
    await Promise.all(Array.from({ length: 40 }, (_, i) => client.get(Greeter, `g${i}`).greet("x")));
    const onLate = [...cluster.placements()]
      .filter(([, siloId]) => siloId === late.siloId)
      .map(([key]) => key.slice("Greeter/".length));
    expect(onLate.length).toBeGreaterThan(0);

    await late.stop();

    // Every actor the stopped silo held answers again, as a fresh activation (its count restarts) on the other silo.
    const replies = await Promise.all(onLate.map((id) => client.get(Greeter, id).greet("y")));
    expect(replies).toEqual(onLate.map((id) => `hello y (#1 from ${id})`));
    const owners = cluster.placements();
    for (const id of onLate) expect(owners.get(`Greeter/${id}`)).toBe(cluster.silos[0]?.siloId);
  });
});
