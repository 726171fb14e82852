import type { JsonObject } from "../events/json-value.js";
// biome-ignore lint/suspicious/noImportCycles: type-only; a reference is typed by its actor class, whose `get` hands out references
import type { Actor } from "./actor.js";
import type { WireData } from "./wire-data.js";

/** Options for calls made through one reference. */
export interface CallOptions {
  /** Fails the call with CallTimeoutError after this long. @default 30_000 (the silo's/client's callTimeoutMs) */
  readonly timeoutMs?: number;
  /** Recorded as `userId` in the metadata of every event the call raises. */
  readonly userId?: string;
  /** Recorded as `correlationId`; a new one is generated when absent (or inherited inside a call chain). */
  readonly correlationId?: string;
  /**
   * Why the caller makes the call, e.g. `{ reason: "chargeback #123" }`: recorded as `callMetadata`
   * in every event the call raises, and inherited by the calls it makes. Plain JSON, at most 4 KiB
   * serialized (InvalidArgumentError otherwise). Like `userId`, it is asserted by the caller.
   */
  readonly metadata?: JsonObject;
  /**
   * Names one command on one actor so that retrying it can never execute it twice: a call with a
   * key the actor has already committed events for is not run again, it returns the first outcome.
   * Recorded in the metadata of the events the call commits, atomically with them, so it survives a
   * crash. Applies to command methods of event-sourced actors; calls that raise no events change
   * nothing and may run again. Remembered for the actor's last {@link IDEMPOTENCY_WINDOW_EVENTS}
   * events. Use one key per command (a reference made with a key sends it with every call).
   * At most 200 characters. The Client generates one for every call that has none.
   */
  readonly idempotencyKey?: string;
}

/** How far back (in events of the actor) an idempotency key is remembered. */
export const IDEMPOTENCY_WINDOW_EVENTS = 1_000;

/** Members every actor has that are not callable through a reference. */
type ActorBaseKeys =
  | "id"
  | "get"
  | "state"
  | "version"
  | "apply"
  | "initialState"
  | "onActivate"
  | "onDeactivate"
  | "onReminder"
  | "toSnapshot"
  | "fromSnapshot";

type AsyncMethodKeys<T> = {
  [K in keyof T]: K extends ActorBaseKeys
    ? never
    : K extends string
      ? T[K] extends (...args: never[]) => Promise<unknown>
        ? K
        : never
      : never;
}[keyof T];

/**
 * A typed, location-transparent reference to an actor: exactly the actor's public async methods,
 * each returning a Promise of the result as it crosses a call boundary ({@link WireData}: the same
 * locally and remotely; a Map or other non-wire result is `never` because the call fails).
 * Nothing else (no state, no base-class members) is reachable.
 *
 * @example
 * const account: ActorRef<Account> = silo.get(Account, "acc-1");
 * await account.deposit(5);
 */
export type ActorRef<T extends Actor> = {
  readonly [K in AsyncMethodKeys<T>]: T[K] extends (...args: infer A) => Promise<infer R>
    ? (...args: A) => Promise<WireData<Awaited<R>>>
    : never;
};

/** The class of an actor: constructible without arguments and named by a static `type`. */
export interface ActorClass<T extends Actor = Actor> {
  new (): T;
  /** Stable name of the actor type; part of every stream name, so never rename it. */
  readonly type: string;
  /**
   * Methods that do not change state: they may run at the same time as each other (never beside a
   * state-changing call). In an event-sourced actor, `raise` in one of them fails.
   * @example static readonly readOnly = ["balance", "history"];
   */
  readonly readOnly?: readonly string[];
}

/** Anything that hands out actor references: a silo, a client, or an actor calling another actor. */
export interface ActorRefFactory {
  get<T extends Actor>(type: ActorClass<T>, id: string, options?: CallOptions): ActorRef<T>;
}
