import { EventSourcedActor, isGranaryError, MemoryEventStore, MemorySnapshotStore, streamOf } from "@granary/core";
import fc from "fast-check";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Silo } from "../silo/silo.js";

const silent = pino({ level: "silent" });
const silos: Silo[] = [];

afterEach(async () => {
  await Promise.all(silos.splice(0).map((s) => s.stop()));
});

/** A reply acknowledged `note` as event `version` of `actor`. */
interface Ack {
  readonly actor: string;
  readonly note: string;
  readonly version: number;
}

type NoteEvent = { type: "Noted"; note: string };

/** What every caller saw acknowledged (recorded where the reply arrived). */
let acks: Ack[] = [];
let notes = 0;

class Node extends EventSourcedActor<{ notes: number }, NoteEvent> {
  static readonly type = "Node";
  initialState() {
    return { notes: 0 };
  }
  apply(state: { notes: number }) {
    return { notes: state.notes + 1 };
  }
  async note(note: string): Promise<Ack> {
    this.raise({ type: "Noted", note });
    return { actor: this.id, note, version: this.version };
  }
  /** A: raises, calls B (which calls back into A), then throws. */
  async outerThenThrow(relayId: string): Promise<void> {
    await this.note("outer");
    await this.get(Node, relayId).relay(this.id);
    throw new Error("the outer turn fails after B acted on A′'s reply");
  }
  /** B: calls back into A, then commits an event based on A′'s reply. */
  async relay(originId: string): Promise<Ack> {
    const ack = await this.get(Node, originId).note("inner");
    acks.push(ack);
    return this.note(`B saw ${originId} at version ${ack.version}`);
  }
  async count(): Promise<{ notes: number; version: number }> {
    return { notes: this.state.notes, version: this.version };
  }

  /** Runs a random call tree (see `plan` below); returns what this turn raised. */
  async run(plan: Plan, path: readonly string[], restricted: boolean): Promise<Ack[]> {
    const raised: Ack[] = [];
    const raise = () => raised.push(this.#raiseNote());
    for (let i = 0; i < plan.before; i++) raise();
    const here = [...path, this.id];
    // Inside a fan-out only actors of the chain are called (always reentrant), so the random tree
    // can never deadlock on an unrelated busy actor.
    const chainOnly = restricted || plan.fanOut;
    const call = async (c: PlannedCall) => {
      const wanted = IDS[c.target % IDS.length] as string;
      const target = chainOnly && !here.includes(wanted) ? (here[c.target % here.length] as string) : wanted;
      try {
        acks.push(...(await this.get(Node, target).run(c.plan, here, chainOnly)));
      } catch (error) {
        if (!c.catches) throw error;
      }
    };
    if (plan.fanOut) {
      const outcomes = await Promise.allSettled(plan.calls.map(call));
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
      if (failed) throw failed.reason;
    } else {
      for (const c of plan.calls) await call(c);
    }
    for (let i = 0; i < plan.after; i++) raise();
    if (plan.throws) throw new Error("planned failure");
    return raised;
  }

  #raiseNote(): Ack {
    const note = `n${++notes}`;
    this.raise({ type: "Noted", note });
    return { actor: this.id, note, version: this.version };
  }
}

const IDS = ["t0", "t1", "t2"];

interface Plan {
  readonly before: number;
  readonly calls: readonly PlannedCall[];
  readonly fanOut: boolean;
  readonly after: number;
  readonly throws: boolean;
}
interface PlannedCall {
  readonly target: number;
  readonly catches: boolean;
  readonly plan: Plan;
}

const plan: fc.Memo<Plan> = fc.memo((depth) =>
  fc.record({
    before: fc.integer({ min: 0, max: 2 }),
    calls:
      depth <= 1
        ? fc.constant([])
        : fc.array(fc.record({ target: fc.nat(5), catches: fc.boolean(), plan: plan(depth - 1) }), { maxLength: 3 }),
    fanOut: fc.boolean(),
    after: fc.integer({ min: 0, max: 1 }),
    throws: fc.integer({ min: 0, max: 2 }).map((n) => n === 0),
  }),
);

async function startSilo() {
  const store = new MemoryEventStore();
  const silo = await Silo.start({
    actors: [Node],
    logger: silent,
    store,
    snapshots: new MemorySnapshotStore(),
    callTimeoutMs: 2_000,
  });
  silos.push(silo);
  return { silo, store };
}

/** Every acknowledged event is stored at the acknowledged version; live state equals the store. */
async function expectAcknowledgedEventsStored(silo: Silo, store: MemoryEventStore, actors: readonly string[]) {
  for (const id of actors) {
    const stored = await store.read(streamOf(Node.type, id));
    const byVersion = new Map(stored.map((e) => [e.version, e.data.note]));
    for (const ack of acks.filter((a) => a.actor === id)) {
      expect(byVersion.get(ack.version), `${id} v${ack.version} was acknowledged as ${ack.note}`).toBe(ack.note);
    }
    expect(await silo.get(Node, id).count()).toEqual({ notes: stored.length, version: stored.length });
  }
}

describe("reentrant calls and durability", () => {
  it("A → B → A′: A′'s acknowledged event survives A's later throw, and no version is acknowledged twice", async () => {
    acks = [];
    const { silo, store } = await startSilo();
    const a = silo.get(Node, "a");
    await expect(a.outerThenThrow("b")).rejects.toThrow(/outer turn fails/);
    // New writes after the throw must not reuse the versions A′ acknowledged.
    acks.push(await a.note("later-1"), await a.note("later-2"));
    const versions = acks.filter((ack) => ack.actor === "a").map((ack) => ack.version);
    expect(new Set(versions).size).toBe(versions.length);
    await expectAcknowledgedEventsStored(silo, store, ["a", "b"]);
    // The outer turn's own event was committed when the call re-entered (the rule), so it stays too.
    expect((await store.read("Node/a")).map((e) => e.data.note)).toEqual(["outer", "inner", "later-1", "later-2"]);
  });

  it("calls of one chain inside the actor side by side (fan-out re-entry) may not raise: CONCURRENT_RAISE", async () => {
    acks = [];
    const { silo, store } = await startSilo();
    const leaf: Plan = { before: 1, calls: [], fanOut: false, after: 0, throws: false };
    const sideBySide: Plan = {
      before: 1,
      calls: [
        { target: 0, catches: false, plan: leaf },
        { target: 0, catches: false, plan: leaf },
      ],
      fanOut: true,
      after: 0,
      throws: false,
    };
    await expect(silo.get(Node, "t0").run(sideBySide, [], false)).rejects.toMatchObject({
      code: "CONCURRENT_RAISE",
      message: expect.stringMatching(/side by side/),
    });
    // The outer call's event was committed when the calls re-entered; nothing else was.
    expect((await store.read("Node/t0")).length).toBe(1);
    await expectAcknowledgedEventsStored(silo, store, ["t0"]);
    // Once they are done the actor raises again as usual.
    expect(await silo.get(Node, "t0").note("after")).toMatchObject({ version: 2 });
  });

  it("a fan-out elsewhere in the chain runs a 'nested' call beside its ancestor: the ancestor's events discarded by the nested call's throw are never acknowledged", async () => {
    // Found by the property below (seed -601218015): t1 fans out into t1 and t0; the t1 branch's
    // call into t0 is attributed to the other branch's chain, so on t0 it looks nested under the
    // running t0 call, which raises while it is open; its throw then discarded that event, and the
    // t0 call replied as if it were kept.
    const leaf = (throws: boolean): Plan => ({ before: 0, calls: [], fanOut: false, after: 0, throws });
    const tree: Plan = {
      before: 0,
      fanOut: false,
      after: 0,
      throws: true,
      calls: [
        {
          target: 1,
          catches: false,
          plan: {
            before: 0,
            fanOut: true,
            after: 0,
            throws: true,
            calls: [
              {
                target: 1,
                catches: false,
                plan: {
                  before: 0,
                  fanOut: false,
                  after: 0,
                  throws: true,
                  calls: [
                    { target: 1, catches: false, plan: leaf(false) },
                    { target: 0, catches: false, plan: leaf(true) },
                  ],
                },
              },
              {
                target: 0,
                catches: false,
                plan: {
                  before: 1,
                  fanOut: false,
                  after: 1,
                  throws: false,
                  calls: [{ target: 1, catches: false, plan: leaf(false) }],
                },
              },
            ],
          },
        },
      ],
    };
    acks = [];
    const { silo, store } = await startSilo();
    await expect(silo.get(Node, "t0").run(tree, [], false)).rejects.toThrow();
    await expectAcknowledgedEventsStored(silo, store, IDS);
  });

  it("random call trees with re-entry, fan-out and throws: acknowledged ⊆ stored, versions unique", async () => {
    let acknowledged = 0;
    let refusedSideBySide = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ root: fc.nat(2), plan: plan(4) }), { minLength: 1, maxLength: 4 }),
        async (roots) => {
          acks = [];
          const { silo, store } = await startSilo();
          for (const { root, plan: rootPlan } of roots) {
            try {
              acks.push(...(await silo.get(Node, IDS[root] as string).run(rootPlan, [], false)));
            } catch (error) {
              if (isGranaryError(error, "CALL_TIMEOUT")) throw error;
              if (isGranaryError(error, "CONCURRENT_RAISE")) refusedSideBySide++;
            }
          }
          acknowledged += acks.length;
          const seen = new Set(acks.map((a) => `${a.actor}@${a.version}`));
          expect(seen.size).toBe(acks.length);
          await expectAcknowledgedEventsStored(silo, store, IDS);
          await silo.stop();
        },
      ),
      { numRuns: 150 },
    );
    // The trees exercised both outcomes: events acknowledged, and raises refused side by side.
    expect(acknowledged).toBeGreaterThan(100);
    expect(refusedSideBySide).toBeGreaterThan(0);
  }, 120_000);
});
