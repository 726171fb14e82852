import { GranaryError } from "../errors.js";
import { type ActorHost, bindHost } from "../internal/actor-host.js";
import type { ActorClass, ActorRef, CallOptions } from "./actor-ref.js";

/**
 * A virtual actor with volatile state: it exists conceptually forever, is activated on demand on
 * some silo, and processes one call at a time. Its fields are lost on deactivation; use
 * {@link EventSourcedActor} for state that must survive.
 *
 * @example
 * class Counter extends Actor {
 *   static readonly type = "Counter";
 *   #count = 0;
 *   async increment(): Promise<number> { return ++this.#count; }
 * }
 */
export abstract class Actor {
  #host: ActorHost | undefined;

  /** The actor's id within its type. Available from `onActivate` on (not in the constructor). */
  get id(): string {
    return this.#bound().id;
  }

  /** A reference to another actor; calls through it continue the current call chain. */
  get<T extends Actor>(type: ActorClass<T>, id: string, options?: CallOptions): ActorRef<T> {
    return this.#bound().get(type, id, options);
  }

  /** Called once per activation, before the first call. A throw fails the activation. */
  onActivate?(): Promise<void>;

  /** Called when the activation is deactivated (idle, shutdown). Best effort on crash: not called. */
  onDeactivate?(): Promise<void>;

  /** @internal */
  [bindHost](host: ActorHost): void {
    if (this.#host) throw new GranaryError("INVALID_ARGUMENT", "actor instance is already bound to an activation");
    this.#host = host;
  }

  /** @internal */
  protected get host(): ActorHost {
    return this.#bound();
  }

  #bound(): ActorHost {
    if (!this.#host) {
      throw new GranaryError(
        "INVALID_ARGUMENT",
        "this actor is not activated yet: `id` and `get` are available from onActivate on, not in the constructor",
      );
    }
    return this.#host;
  }
}
