// biome-ignore lint/suspicious/noImportCycles: type-only; an actor calls other actors through its host, and Actor holds its host
import type { ActorRefFactory } from "../actor/actor-ref.js";
import type { RecordedEvent } from "../events/envelope.js";
import type { ReminderInfo, ReminderOptions, TimerOptions } from "../schedules/schedule-options.js";

/**
 * What the runtime gives an actor instance: its identity and the means to call other actors within
 * the current call chain (`get`). Bound once, right after construction.
 */
export interface ActorHost extends ActorRefFactory {
  readonly id: string;
  readonly type: string;
  /** Whether to deep-freeze state after every event (development mode). */
  readonly freezeState: boolean;
  /** Commits the current turn's events now (event-sourced actors only). */
  persist(): Promise<void>;
  /** Reads this actor's own stored events (event-sourced actors only). */
  readHistory(fromVersion: number): Promise<RecordedEvent[]>;
  /** Sets (or replaces) a volatile timer of this activation; each tick runs `callback` as a turn. */
  setTimer(name: string, options: TimerOptions, callback: () => unknown): void;
  cancelTimer(name: string): boolean;
  timerNames(): string[];
  /** Registers (or replaces) a durable reminder of this actor. */
  remind(name: string, options: ReminderOptions): Promise<void>;
  cancelReminder(name: string): Promise<boolean>;
  reminders(): Promise<ReminderInfo[]>;
}

/** Symbol-keyed so the binding is invisible to ActorRef and cannot collide with user methods. */
export const bindHost: unique symbol = Symbol("granary.bindHost");
export const eventSourcing: unique symbol = Symbol("granary.eventSourcing");
