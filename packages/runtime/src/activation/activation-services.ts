import type {
  Actor,
  ActorClass,
  ActorRef,
  CallOptions,
  Clock,
  Directory,
  EventStore,
  ReminderInfo,
  ReminderOptions,
  SnapshotStore,
} from "@granary/core";
import type { Logger } from "pino";
import type { ActivationSlots } from "../admission/activation-slots.js";
import type { CallContext } from "../calls/call-context.js";
import type { SiloTelemetry } from "../telemetry/silo-telemetry.js";

/** Everything an activation needs from its silo; one shared instance per silo. */
export interface ActivationServices {
  readonly siloId: string;
  readonly store: EventStore;
  readonly snapshots: SnapshotStore;
  readonly directory: Directory;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly telemetry: SiloTelemetry;
  readonly freezeState: boolean;
  /** Creates references for actor-to-actor calls; `parent` gives the calling turn's context. */
  readonly refs: {
    ref<T extends Actor>(
      type: ActorClass<T>,
      id: string,
      options: CallOptions | undefined,
      parent: () => CallContext | undefined,
    ): ActorRef<T>;
  };
  /**
   * False once this silo may no longer write (membership lease lapsed): commits are refused before
   * they reach the store, so a paused-then-resumed silo cannot write after its actors moved.
   */
  readonly canCommit: () => boolean;
  /** Bounds the activations loading at once (absent: unbounded). */
  readonly activationSlots?: ActivationSlots;
  /** Durable reminders of actors, by stream (the silo's reminder service). */
  readonly reminders: {
    register(stream: string, name: string, options: ReminderOptions, traceparent: string | undefined): Promise<void>;
    cancel(stream: string, name: string): Promise<boolean>;
    list(stream: string): Promise<ReminderInfo[]>;
  };
  /** Tracks background work (snapshots) that stop() must wait for. */
  readonly background: (work: Promise<unknown>) => void;
}
