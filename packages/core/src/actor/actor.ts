import { GranaryError } from "../errors.js";
// biome-ignore lint/suspicious/noImportCycles: type-only; the host contract names ActorRefFactory, whose types name Actor
import { type ActorHost, bindHost } from "../internal/actor-host.js";
import type { ReminderInfo, ReminderOptions, ReminderTick, TimerOptions } from "../schedules/schedule-options.js";
// biome-ignore lint/suspicious/noImportCycles: type-only; Actor.get returns ActorRef<T extends Actor>, which is recursive by nature
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

  /**
   * Called for each tick of a durable reminder, as a turn (never beside another call; events raised
   * here commit like a command's). At least once: a tick may be redelivered after a crash, with the
   * same `tick.id`. A throw is logged and the tick is retried with backoff.
   */
  onReminder?(name: string, tick: ReminderTick): Promise<void>;

  /**
   * Sets a volatile timer owned by this activation (replacing one of the same name): after `dueMs`,
   * and then every `periodMs` after each tick ends, `callback` runs as a turn through the mailbox.
   * Gone on deactivation; for schedules that must survive it, use {@link remind}.
   * @example this.setTimer("poll", { dueMs: 0, periodMs: 1_000 }, () => this.poll());
   * @throws InvalidArgumentError for a bad name or options
   */
  protected setTimer(name: string, options: TimerOptions, callback: () => unknown): void {
    this.#bound().setTimer(name, options, callback);
  }

  /** Stops a timer; false when there was none of that name. */
  protected cancelTimer(name: string): boolean {
    return this.#bound().cancelTimer(name);
  }

  /** Names of this activation's timers. */
  protected timers(): string[] {
    return this.#bound().timerNames();
  }

  /**
   * Registers a durable reminder (replacing one of the same name): at the due time the actor is
   * activated wherever the directory places it and `onReminder(name, tick)` runs as a turn.
   * Durable when the promise resolves.
   * @example await this.remind("expire", { inMs: 30 * 60_000, missed: "fire-once" });
   * @throws InvalidArgumentError for a bad name or options, or when the class has no onReminder
   */
  protected remind(name: string, options: ReminderOptions): Promise<void> {
    return this.#bound().remind(name, options);
  }

  /** Cancels a reminder; false when there was none of that name. */
  protected cancelReminder(name: string): Promise<boolean> {
    return this.#bound().cancelReminder(name);
  }

  /** This actor's registered reminders, by name. */
  protected reminders(): Promise<ReminderInfo[]> {
    return this.#bound().reminders();
  }

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
