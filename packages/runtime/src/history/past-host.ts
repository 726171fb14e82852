import {
  type Actor,
  type ActorClass,
  type ActorRef,
  type EventStore,
  InvalidArgumentError,
  type RecordedEvent,
  type ReminderInfo,
} from "@granary/core";
import type { ActorHost } from "@granary/core/internal";

/**
 * What an actor instance rebuilt at a past point is bound to: its identity, and its own history up
 * to that point. It is no activation: it takes no calls, commits nothing and calls no other actor.
 */
export class PastHost implements ActorHost {
  constructor(
    readonly type: string,
    readonly id: string,
    readonly stream: string,
    readonly store: EventStore,
    readonly freezeState: boolean,
    /** The version the instance is rebuilt at. */
    readonly target: number,
  ) {}

  get<T extends Actor>(type: ActorClass<T>, id: string): ActorRef<T> {
    throw new InvalidArgumentError(
      `${this.stream} as of version ${this.target} cannot call ${type?.type ?? "another actor"}/${id}: a past state answers from its own state only`,
    );
  }

  persist(): Promise<void> {
    return Promise.reject(
      new InvalidArgumentError(`${this.stream} as of version ${this.target} cannot persist events`),
    );
  }

  // A past state schedules nothing: timers and reminders belong to the live activation.
  setTimer(name: string): void {
    throw this.#noSchedules(`set timer "${name}"`);
  }

  cancelTimer(): boolean {
    return false;
  }

  timerNames(): string[] {
    return [];
  }

  remind(name: string): Promise<void> {
    return Promise.reject(this.#noSchedules(`register reminder "${name}"`));
  }

  cancelReminder(name: string): Promise<boolean> {
    return Promise.reject(this.#noSchedules(`cancel reminder "${name}"`));
  }

  reminders(): Promise<ReminderInfo[]> {
    return Promise.resolve([]);
  }

  #noSchedules(what: string): InvalidArgumentError {
    return new InvalidArgumentError(
      `${this.stream} as of version ${this.target} cannot ${what}: a past state is read-only`,
    );
  }

  /** The actor's events up to the past point, never after it. */
  async readHistory(fromVersion: number): Promise<RecordedEvent[]> {
    if (fromVersion > this.target) return [];
    return this.store.read(this.stream, fromVersion, { limit: this.target - Math.max(1, fromVersion) + 1 });
  }
}
