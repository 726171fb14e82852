import { EventSourcedActor, type ReminderTick } from "@granary/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TestCluster } from "./test-cluster.js";

type DeadlineEvent = { type: "Fired"; tickId: string };

class Deadline extends EventSourcedActor<{ fired: number }, DeadlineEvent> {
  static readonly type = "Deadline";
  static fired = new Map<string, string[]>();

  initialState() {
    return { fired: 0 };
  }
  apply(state: { fired: number }) {
    return { fired: state.fired + 1 };
  }
  async arm(inMs: number, periodMs?: number): Promise<void> {
    await this.remind("due", periodMs === undefined ? { inMs } : { inMs, periodMs });
  }
  override async onReminder(_name: string, tick: ReminderTick): Promise<void> {
    Deadline.fired.set(this.id, [...(Deadline.fired.get(this.id) ?? []), tick.id]);
    this.raise({ type: "Fired", tickId: tick.id });
  }
}

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
  Deadline.fired = new Map();
});

async function partitionOwners(c: TestCluster): Promise<Map<number, string>> {
  const owners = new Map<number, string>();
  for (let p = 0; p < 64; p++) {
    const entry = await c.directory.lookup(`granary:reminders/${p}`);
    if (entry) owners.set(p, entry.siloId);
  }
  return owners;
}

/** Three silos polling reminders every 100 ms; resolves once each of the 64 partitions has an owner. */
async function startWithEveryPartitionOwned(): Promise<TestCluster> {
  const c = await TestCluster.start({
    actors: [Deadline],
    silos: 3,
    siloOptions: { reminderService: { pollIntervalMs: 100 } },
  });
  cluster = c;
  await vi.waitFor(async () => expect((await partitionOwners(c)).size).toBe(64), { timeout: 10_000 });
  return c;
}

describe("reminders in a cluster (in process)", () => {
  it("partitions spread over the live silos; every reminder fires exactly once", async () => {
    const c = await startWithEveryPartitionOwned();
    const owners = await partitionOwners(c);
    expect(new Set(owners.values())).toEqual(new Set(c.silos.map((s) => s.siloId)));

    const client = await c.client();
    const ids = Array.from({ length: 300 }, (_, i) => `d${i}`);
    await Promise.all(ids.map((id) => client.get(Deadline, id).arm(300)));
    await vi.waitFor(() => expect(Deadline.fired.size).toBe(300), { timeout: 20_000, interval: 100 });
    await new Promise((resolve) => setTimeout(resolve, 500));

    for (const id of ids) expect(Deadline.fired.get(id)?.length, id).toBe(1);
    expect(await client.reminders(Deadline, "d1")).toEqual([]);
  });

  it("a stopped silo's partitions move to the others and its reminders still fire; a new silo takes a share", async () => {
    const c = await startWithEveryPartitionOwned();
    const client = await c.client();
    const ids = Array.from({ length: 100 }, (_, i) => `late${i}`);
    await Promise.all(ids.map((id) => client.get(Deadline, id).arm(2_500)));
    expect((await client.reminders(Deadline, "late1")).map((r) => r.name)).toEqual(["due"]);

    const leaving = c.silos[0];
    await leaving?.stop();
    await vi.waitFor(
      async () => {
        const owners = await partitionOwners(c);
        expect(owners.size).toBe(64);
        expect([...owners.values()]).not.toContain(leaving?.siloId);
      },
      { timeout: 10_000 },
    );
    const added = await c.addSilo();
    await vi.waitFor(async () => expect([...(await partitionOwners(c)).values()]).toContain(added.siloId), {
      timeout: 10_000,
    });

    await vi.waitFor(() => expect(Deadline.fired.size).toBe(100), { timeout: 20_000, interval: 100 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const id of ids) expect(Deadline.fired.get(id)?.length, id).toBe(1);
  });

  it("operators cancel a reminder through the client; it never fires", async () => {
    cluster = await TestCluster.start({ actors: [Deadline], silos: 2 });
    const client = await cluster.client();
    await client.get(Deadline, "x").arm(60_000, 60_000);

    expect(await client.reminders(Deadline, "x")).toEqual([
      { name: "due", dueAt: expect.any(String), periodMs: 60_000, missed: "fire-once" },
    ]);
    expect(await client.cancelReminder(Deadline, "x", "due")).toBe(true);
    expect(await client.cancelReminder(Deadline, "x", "due")).toBe(false);
    expect(await client.reminders(Deadline, "x")).toEqual([]);
  });
});
