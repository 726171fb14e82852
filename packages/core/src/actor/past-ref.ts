import type { Actor } from "./actor.js";
import type { ActorClass, ActorRef, ActorRefFactory, CallOptions } from "./actor-ref.js";

/**
 * A point in a stream's history: right after the event with this version (0 = before the first
 * event), or the last event raised at or before this time (an ISO 8601 string or a Date).
 * Versions are exact; times rely on a stream's event timestamps growing with its versions, which
 * they do unless the clocks of the silos that hosted the actor disagree.
 */
export type PointInTime = { readonly version: number } | { readonly time: string | Date };

/** Options of a reference bound to a past point: `get(Account, id, { asOf: { version: 12 } })`. */
export interface PastCallOptions extends CallOptions {
  readonly asOf: PointInTime;
}

/** The method names a class lists in `static readonly readOnly = [...] as const`; never for a plain string[]. */
type ReadOnlyNames<C> = C extends { readonly readOnly: infer R }
  ? R extends readonly (infer N)[]
    ? string extends N
      ? string
      : N
    : never
  : never;

/**
 * A reference to an actor as it was at a past point. Its methods run against the state rebuilt at
 * that point, in an instance of their own; only `readOnly` methods may run (the silo refuses any
 * other with PastStateReadOnlyError). When the class lists them as a tuple
 * (`static readonly readOnly = ["balance"] as const`) only those methods are on the type; a class
 * that lists none exposes none; a list typed as `string[]` cannot narrow the type, so every method
 * is on it and the check happens at run time only.
 *
 * @example
 * const then = client.get(Account, "acc-1", { asOf: { version: 12 } });
 * await then.balance(); // what the balance was after event 12
 */
export type PastActorRef<T extends Actor, C> = [ReadOnlyNames<C>] extends [never]
  ? Record<never, never>
  : string extends ReadOnlyNames<C>
    ? ActorRef<T>
    : Pick<ActorRef<T>, ReadOnlyNames<C> & keyof ActorRef<T>>;

/** A silo or client: also hands out references bound to a past point (`asOf`, see PastActorRef). */
export interface TimeTravelRefFactory extends ActorRefFactory {
  get<C extends ActorClass>(type: C, id: string, options: PastCallOptions): PastActorRef<InstanceType<C>, C>;
  get<T extends Actor>(type: ActorClass<T>, id: string, options?: CallOptions): ActorRef<T>;
}
