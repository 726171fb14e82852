import { ErrorCode, PastStateReadOnlyError } from "@granary/core";
import { TestCluster } from "@granary/testing";
import { afterEach, describe, expect, it } from "vitest";
import { Ledger, Teller } from "../../packages/runtime/src/__fixtures__/ledger.js";

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe("history and time travel through the client", () => {
  it("client - history pages, stateAt and asOf answer from any gateway, apart from the live activation", async () => {
    cluster = await TestCluster.start({ actors: [Ledger], silos: 3 });
    const client = await cluster.client();
    const ledger = client.get(Ledger, "c-1", { userId: "ada" });
    for (let i = 1; i <= 7; i++) await ledger.credit(i * 10, `n${i}`);

    const page = await client.history(Ledger, "c-1", { fromVersion: 2, limit: 3 });
    const rest = await client.history(Ledger, "c-1", page.next);
    const past = await client.stateAt(Ledger, "c-1", { version: 3 });
    const byTime = await client.stateAt(Ledger, "c-1", { time: new Date(Date.parse(past.timestamp as string)) });
    const then = client.get(Ledger, "c-1", { asOf: { version: 2 } });

    expect(page.events.map((e) => [e.version, e.type, e.metadata.userId])).toEqual([
      [2, "Credited", "ada"],
      [3, "Credited", "ada"],
      [4, "Credited", "ada"],
    ]);
    expect(rest.events.map((e) => e.version)).toEqual([5, 6, 7]);
    expect(past).toMatchObject({ state: { balance: 60, entries: 3 }, version: 3 });
    expect(byTime.version).toBeGreaterThanOrEqual(3);
    expect(await then.balance()).toBe(30);
    expect(await ledger.balance()).toBe(280);
    expect([...cluster.placements().keys()]).toEqual(["Ledger/c-1"]);
  });

  it("client - an asOf reference refuses a state-changing method with PastStateReadOnlyError", async () => {
    cluster = await TestCluster.start({ actors: [Ledger], silos: 2 });
    const client = await cluster.client();
    await client.get(Ledger, "c-2").credit(5);
    const then = client.get(Ledger, "c-2", { asOf: { version: 1 } }) as unknown as {
      credit(n: number): Promise<number>;
    };

    const error = await then.credit(1).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PastStateReadOnlyError);
    expect(error).toMatchObject({ code: ErrorCode.PastStateReadOnly });
    expect(await client.get(Ledger, "c-2").balance()).toBe(5);
  });

  it("client - invalid history options come back as InvalidArgumentError", async () => {
    cluster = await TestCluster.start({ actors: [Ledger], silos: 1 });
    const client = await cluster.client();

    await expect(client.history(Ledger, "c-3", { limit: -1 })).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
      message: expect.stringMatching(/`limit` must be an integer >= 1/),
    });
    expect(() => client.stateAt(Ledger, "c-3", { when: 1 } as never)).toThrow(/exactly one of/);
  });

  it("client - call metadata crosses the wire into the events, and correlated() finds a request's events across silos", async () => {
    cluster = await TestCluster.start({ actors: [Ledger, Teller], silos: 3 });
    const client = await cluster.client();
    await client.get(Ledger, "from").credit(100);

    await client
      .get(Teller, "t-1", { correlationId: "req-9", userId: "ops", metadata: { reason: "chargeback #123" } })
      .transfer("from", "to", 40);

    const page = await client.correlated("req-9");
    expect(page.events.map((e) => `${e.stream}:${e.metadata.method}`)).toEqual([
      "Ledger/from:debit",
      "Ledger/to:credit",
      "Teller/t-1:transfer",
    ]);
    for (const event of page.events) {
      expect(event.metadata).toMatchObject({ userId: "ops", callMetadata: { reason: "chargeback #123" } });
    }
    expect(page.events[0]?.metadata.parentCallId).toBe(page.events[2]?.metadata.commandId);
  });
});
