import { isRedacted, MemoryKeyStorage, MemoryKeyStore, redacted } from "@granary/core";
import { TestCluster } from "@granary/testing";
import { afterEach, describe, expect, it } from "vitest";
import { Customer } from "../__fixtures__/customers.js";

let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe("crypto-shredding in a cluster", () => {
  it("client.forget reaches the silo that holds the actor: it stops serving plaintext, every silo sees the marker", async () => {
    const keys = new MemoryKeyStorage();
    cluster = await TestCluster.start({
      actors: [Customer],
      silos: 3,
      keyStore: new MemoryKeyStore({ storage: keys }),
    });
    const client = await cluster.client();
    const ids = Array.from({ length: 12 }, (_, i) => `cust-${i}`);
    for (const id of ids) await client.get(Customer, id).register(`Name ${id}`, `${id}@example.com`);
    const owners = cluster.placements();
    // Forget a customer whose activation lives on another silo than the one answering the forget.
    const target = ids.find((id) => owners.get(`Customer/${id}`) !== cluster?.silos[0]?.siloId) as string;
    const owner = cluster.silos.find((s) => s.siloId === owners.get(`Customer/${target}`));
    expect(owner?.activeActors()).toContain(`Customer/${target}`);

    const result = await cluster.silos[0]?.forget(target);

    expect(result?.subject).toBe(target);
    await expect.poll(() => owner?.activeActors().includes(`Customer/${target}`)).toBe(false);
    expect((await client.get(Customer, target).profile()).name).toEqual(redacted(target));
    for (const silo of cluster.silos) {
      expect(isRedacted((await silo.get(Customer, target).profile()).email)).toBe(true);
    }
    const other = ids.find((id) => id !== target) as string;
    expect((await client.get(Customer, other).profile()).name).toBe(`Name ${other}`);
  });

  it("client.forget is answered by a gateway silo and is idempotent", async () => {
    cluster = await TestCluster.start({ actors: [Customer], silos: 2 });
    const client = await cluster.client();
    await client.get(Customer, "cust-1").register("Ada", "ada@example.com");

    const first = await client.forget("cust-1", { userId: "dpo@example.com" });
    const second = await client.forget("cust-1");

    expect(first.subject).toBe("cust-1");
    expect(second).toEqual(first);
    expect((await client.get(Customer, "cust-1").profile()).name).toEqual(redacted("cust-1"));
  });
});
