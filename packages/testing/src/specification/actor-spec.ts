import {
  type ActorRef,
  type DomainEvent,
  type EventEnvelope,
  type EventSourcedActor,
  type EventSourcedActorClass,
  MemoryEventStore,
  MemorySnapshotStore,
  streamOf,
} from "@granary/core";
import { Silo } from "@granary/runtime";
import { pino } from "pino";

type EventOf<A> = A extends EventSourcedActor<unknown, infer E> ? E : never;

/** The outcome of a `when`: the events it committed, or the error it threw. */
export type SpecOutcome<E> = { readonly events: E[]; readonly result: unknown } | { readonly error: unknown };

/**
 * Given/when/then for one event-sourced actor, run through a real silo on a memory store: history
 * is appended as stored events (so replay, upcasting and snapshots are real), the command runs as a
 * real turn, and the outcome is the events it committed or the error it threw.
 *
 * @example
 * const outcome = await ActorSpec.for(Account)
 *   .given([{ type: "Opened", owner: "A" }, { type: "Deposited", amount: 5 }])
 *   .when((account) => account.withdraw(9));
 * expect(outcome).toMatchObject({ error: { code: "INSUFFICIENT_FUNDS" } });
 */
export class ActorSpec<A extends EventSourcedActor<unknown, DomainEvent>> {
  readonly #cls: EventSourcedActorClass<A>;
  readonly #history: EventOf<A>[];
  readonly #id: string;

  private constructor(cls: EventSourcedActorClass<A>, history: EventOf<A>[], id: string) {
    this.#cls = cls;
    this.#history = history;
    this.#id = id;
  }

  static for<A extends EventSourcedActor<unknown, DomainEvent>>(
    cls: EventSourcedActorClass<A>,
    id = "spec",
  ): ActorSpec<A> {
    return new ActorSpec(cls, [], id);
  }

  given(events: readonly EventOf<A>[]): ActorSpec<A> {
    return new ActorSpec(this.#cls, [...this.#history, ...events], this.#id);
  }

  async when(command: (actor: ActorRef<A>) => Promise<unknown>): Promise<SpecOutcome<EventOf<A>>> {
    const store = new MemoryEventStore();
    const stream = streamOf(this.#cls.type, this.#id);
    if (this.#history.length > 0) {
      // Given events are in today's shape: tag them with the current schema version so upcasters skip them.
      const schemaVersionOf = (type: string) => this.#cls.upcasters?.currentVersion(type) ?? 1;
      await store.append(
        stream,
        0,
        this.#history.map((event, i) => envelope(stream, i + 1, event, schemaVersionOf)),
      );
    }
    const silo = await Silo.start({
      actors: [this.#cls],
      store,
      snapshots: new MemorySnapshotStore(),
      logger: pino({ level: "silent" }),
      handleSignals: false,
    });
    try {
      const result = await command(silo.get(this.#cls, this.#id));
      const committed = await store.read(stream, this.#history.length + 1);
      return { result, events: committed.map((e) => ({ type: e.type, ...e.data }) as unknown as EventOf<A>) };
    } catch (error) {
      return { error };
    } finally {
      await silo.stop();
    }
  }
}

function envelope(
  stream: string,
  version: number,
  event: DomainEvent,
  schemaVersionOf: (type: string) => number,
): EventEnvelope {
  const { type, ...data } = event as DomainEvent & Record<string, unknown>;
  return {
    id: `given-${version}`,
    type,
    stream,
    version,
    schemaVersion: schemaVersionOf(type),
    data: data as EventEnvelope["data"],
    metadata: { correlationId: "given", causationId: "given", commandId: "given" },
    timestamp: new Date(0).toISOString(),
  };
}
