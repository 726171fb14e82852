import { ConcurrentRaiseError, InvalidArgumentError, InvalidEventError } from "../errors.js";
import type { DomainEvent, RecordedEvent } from "../events/envelope.js";
import { assertJsonCompatible, deepFreeze, type JsonObject, type JsonValue } from "../events/json-value.js";
import type { Upcasters } from "../events/upcasting.js";
import { eventSourcing } from "../internal/actor-host.js";
import type { PersonalDataDeclaration } from "../personal-data/personal-data.js";
import { Actor } from "./actor.js";
import type { ActorClass } from "./actor-ref.js";

/** An event raised in the current turn, not yet committed. */
export interface PendingEvent {
  readonly type: string;
  readonly data: JsonObject;
  readonly timestamp: string;
}

/**
 * What the runtime drives on an event-sourced actor; not part of the user-facing API.
 *
 * Events raised and not yet committed are `pending()`; the state without them is the *durable
 * point*. The runtime decides when pending events become durable (`committed`) or are thrown away
 * (`discardPending`, back to the durable point); the actor only counts open turns, so `raise` can
 * refuse to run outside one.
 */
export interface EventSourcingControl {
  /** Sets state and version after rehydration (from initialState, snapshot or replay). */
  reset(state: unknown, version: number): void;
  /** Applies one stored event during replay. */
  replay(type: string, data: JsonObject): void;
  /** A command turn starts: `raise` is allowed while at least one is open. */
  beginTurn(): void;
  /** A command turn ended (its events stay pending until the runtime commits or discards them). */
  endTurn(): void;
  /** While true, `raise` throws ConcurrentRaiseError (calls of one chain run side by side). */
  refuseRaise(refused: boolean): void;
  /** Events raised and not yet committed, oldest first. */
  pending(): readonly PendingEvent[];
  /** The first `count` pending events are durable: the durable point moves past them. */
  committed(count: number): void;
  /** Discards every pending event, restoring state and version to the durable point. Returns how many. */
  discardPending(): number;
  readonly state: unknown;
  readonly version: number;
  /** State at the durable point (the state without pending events). */
  readonly durableState: unknown;
  /** Version at the durable point. */
  readonly durableVersion: number;
}

/** Class-level settings of an event-sourced actor. */
export interface EventSourcedActorClass<
  T extends EventSourcedActor<unknown, DomainEvent> = EventSourcedActor<unknown, DomainEvent>,
> extends ActorClass<T> {
  /** Take a snapshot after this many events since the last one. 0 disables. @default 100 */
  readonly snapshotEvery?: number;
  /** Bump when the state's shape changes: snapshots of another version are ignored, never misread. @default 1 */
  readonly snapshotVersion?: number;
  /** Upcasters applied to this actor's events on read. */
  readonly upcasters?: Upcasters;
  /** Which event fields are personal data and whose: encrypted per data subject (see `PersonalData`). */
  readonly personalData?: PersonalDataDeclaration;
}

type AnyEventSourcedActor = EventSourcedActor<unknown, DomainEvent>;

interface EventSourcingOps {
  reset(actor: AnyEventSourcedActor, state: unknown, version: number): void;
  replay(actor: AnyEventSourcedActor, type: string, data: JsonObject): void;
  beginTurn(actor: AnyEventSourcedActor): void;
  endTurn(actor: AnyEventSourcedActor): void;
  refuseRaise(actor: AnyEventSourcedActor, refused: boolean): void;
  pending(actor: AnyEventSourcedActor): readonly PendingEvent[];
  committed(actor: AnyEventSourcedActor, count: number): void;
  discardPending(actor: AnyEventSourcedActor): number;
  version(actor: AnyEventSourcedActor): number;
  durableState(actor: AnyEventSourcedActor): unknown;
}

let ops: EventSourcingOps;
/** Shared, frozen: pushing to it would be a bug, and freezing makes that bug loud. */
const NO_EVENTS: readonly PendingEvent[] = Object.freeze([]);

/**
 * An actor whose state is the fold of its events. Command methods validate, then `raise` events;
 * `apply` is the pure fold. A turn's events commit together at the end of the call, before the
 * reply; a throw discards them and restores the state from before the call.
 *
 * @example
 * type AccountEvent = { type: "Deposited"; amount: number };
 * class Account extends EventSourcedActor<{ balance: number }, AccountEvent> {
 *   static readonly type = "Account";
 *   initialState() { return { balance: 0 }; }
 *   apply(s: { balance: number }, e: AccountEvent) { return { balance: s.balance + e.amount }; }
 *   async deposit(amount: number) { this.raise({ type: "Deposited", amount }); return this.state.balance; }
 * }
 */
export abstract class EventSourcedActor<State, Event extends DomainEvent> extends Actor {
  #state: State | undefined;
  #version = 0;
  #initialized = false;
  // Replaced by fresh arrays only when a turn raises: an idle actor shares these empty ones.
  #pending: PendingEvent[] = NO_EVENTS as PendingEvent[];
  /** State at the durable point while events are pending (undefined otherwise: it is `#state`). */
  #durableState: State | undefined;
  #openTurns = 0;
  #raiseRefused = false;

  /** The state before any event. Must be JSON-compatible if snapshots are on. */
  abstract initialState(): State;

  /** Pure fold: returns the state after `event`. Must not mutate `state` or perform I/O. */
  abstract apply(state: State, event: Event): State;

  /** Current state, including events raised earlier in this turn. Treat as immutable. */
  get state(): State {
    if (!this.#initialized) this.#reset(this.initialState(), 0);
    return this.#state as State;
  }

  /** Version of the last event applied (0 = no events). */
  get version(): number {
    return this.#version;
  }

  /**
   * Commits the events raised so far in this turn before continuing, e.g. before calling another
   * actor in a saga step. After it resolves they are durable and a later throw no longer undoes them.
   * Throws StaleActivationError on a version conflict, like the end-of-turn commit.
   */
  protected async persist(): Promise<void> {
    await this.host.persist();
  }

  /** This actor's stored events from `fromVersion` on, with their metadata (for audit and history views). */
  protected async loadHistory(fromVersion = 1): Promise<RecordedEvent[]> {
    return this.host.readHistory(fromVersion);
  }

  /** Converts state to the JSON a snapshot stores. Override when state holds non-JSON values. */
  toSnapshot(state: State): JsonValue {
    return state as unknown as JsonValue;
  }

  /** Rebuilds state from a snapshot's JSON. Override together with toSnapshot. */
  fromSnapshot(snapshot: JsonValue): State {
    return snapshot as unknown as State;
  }

  /**
   * Applies `event` at once (the method sees the new state) and buffers it for the end-of-turn
   * commit. Throws InvalidEventError if the payload is not plain JSON data.
   */
  protected raise(event: Event): void {
    if (typeof event !== "object" || event === null || typeof event.type !== "string" || event.type === "") {
      throw new InvalidEventError("$.type", "an event must be an object with a non-empty string `type`");
    }
    assertJsonCompatible(event.type, "$.type");
    if (this.#openTurns === 0) {
      throw new InvalidArgumentError(
        "raise() was called outside a turn (in the constructor, onDeactivate, a read-only method, or after the method returned); raise events only inside command methods",
      );
    }
    if (this.#raiseRefused) throw new ConcurrentRaiseError(`${(this.constructor as ActorClass).type}/${this.id}`);
    const { type, ...data } = event as Event & Record<string, unknown>;
    assertJsonCompatible(data);
    const before = this.state;
    const next = this.apply(before, event);
    const pending: PendingEvent = { type, data: data as JsonObject, timestamp: isoNow() };
    if (this.#pending === NO_EVENTS) {
      // Sized for the usual single event (an empty array's first push reserves 17 slots); not a
      // literal, whose allocation site V8 could pretenure while many turns are open at once.
      this.#pending = new Array<PendingEvent>(1);
      this.#pending[0] = pending;
      this.#durableState = before;
    } else {
      this.#pending.push(pending);
    }
    this.#reset(next, this.#version + 1);
  }

  #reset(state: State, version: number): void {
    this.#state = this.host.freezeState ? deepFreeze(state) : state;
    this.#version = version;
    this.#initialized = true;
  }

  /** @internal The runtime's handle on this actor's event-sourcing state (one small object per actor). */
  get [eventSourcing](): EventSourcingControl {
    return new EventSourcingController(this as EventSourcedActor<unknown, DomainEvent>);
  }

  static {
    // Functions defined in the class body may touch private fields; the controller below calls them,
    // so no actor carries a bag of closures of its own.
    ops = {
      reset: (actor, state, version) => actor.#reset(state, version),
      replay: (actor, type, data) => actor.#reset(actor.apply(actor.state, eventOf(type, data)), actor.#version + 1),
      beginTurn: (actor) => {
        actor.#openTurns++;
      },
      endTurn: (actor) => {
        if (actor.#openTurns > 0) actor.#openTurns--;
      },
      refuseRaise: (actor, refused) => {
        actor.#raiseRefused = refused;
      },
      pending: (actor) => actor.#pending,
      committed: (actor, count) => {
        const pending = actor.#pending;
        if (count >= pending.length) {
          actor.#pending = NO_EVENTS as PendingEvent[];
          actor.#durableState = undefined;
          return;
        }
        // Events were raised while the commit was under way: fold the committed ones onto the old
        // durable point (apply is pure), and keep the rest pending.
        let durable = actor.#durableState;
        for (let i = 0; i < count; i++) {
          const { type, data } = pending[i] as PendingEvent;
          durable = actor.apply(durable, eventOf(type, data));
        }
        actor.#durableState = actor.host.freezeState ? deepFreeze(durable) : durable;
        actor.#pending = pending.slice(count);
      },
      discardPending: (actor) => {
        const count = actor.#pending.length;
        if (count === 0) return 0;
        actor.#reset(actor.#durableState, actor.#version - count);
        actor.#pending = NO_EVENTS as PendingEvent[];
        actor.#durableState = undefined;
        return count;
      },
      durableState: (actor) => (actor.#pending.length === 0 ? actor.state : actor.#durableState),
      version: (actor) => actor.#version,
    };
  }
}

/** Forwards to the class-body functions above; holds nothing but the actor. */
class EventSourcingController implements EventSourcingControl {
  constructor(readonly actor: AnyEventSourcedActor) {}
  reset(state: unknown, version: number): void {
    ops.reset(this.actor, state, version);
  }
  replay(type: string, data: JsonObject): void {
    ops.replay(this.actor, type, data);
  }
  beginTurn(): void {
    ops.beginTurn(this.actor);
  }
  endTurn(): void {
    ops.endTurn(this.actor);
  }
  refuseRaise(refused: boolean): void {
    ops.refuseRaise(this.actor, refused);
  }
  pending(): readonly PendingEvent[] {
    return ops.pending(this.actor);
  }
  committed(count: number): void {
    ops.committed(this.actor, count);
  }
  discardPending(): number {
    return ops.discardPending(this.actor);
  }
  get state(): unknown {
    return this.actor.state;
  }
  get version(): number {
    return ops.version(this.actor);
  }
  get durableState(): unknown {
    return ops.durableState(this.actor);
  }
  get durableVersion(): number {
    return ops.version(this.actor) - ops.pending(this.actor).length;
  }
}

/**
 * The event `apply` receives: the stored data with its `type` (which wins over a `type` field in
 * the data). Not `{ ...data, type }`, nor a spread and then a store: on Node 20 adding a property
 * to an object made by a spread takes V8's slow path, ~0.55 µs per event (more than the rest of a
 * replay's work per event), where `Object.assign` and one store cost ~30 ns.
 */
function eventOf(type: string, data: JsonObject): DomainEvent {
  // `Object.assign` would set the prototype from an own "__proto__" key: raise refuses such keys,
  // but an event stored before that rule must still replay as it was written.
  if (Object.hasOwn(data, "__proto__")) return { ...data, type } as unknown as DomainEvent;
  const event = Object.assign({}, data) as Record<string, unknown>;
  event.type = type;
  return event as unknown as DomainEvent;
}

let lastMs = 0;
let lastIso = "";
/** The current time as ISO 8601, formatted once per millisecond (raise is on the hot path). */
function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}
