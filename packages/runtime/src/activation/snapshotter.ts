import {
  assertJsonCompatible,
  ErrorCode,
  type EventSourcedActor,
  type EventSourcingControl,
  isGranaryError,
  messageOf,
} from "@granary/core";
import { eventSourcing } from "@granary/core/internal";
import type { ActivationServices } from "./activation-services.js";
import type { ActorTypeInfo } from "./actor-type-info.js";

/**
 * Takes snapshots every `snapshotEvery` events and on deactivation. Snapshots are a cache of
 * replay: saving one happens off the call's critical path, and a failed save only costs replay.
 */
export class Snapshotter {
  #lastSnapshotVersion: number;
  #warned = false;
  readonly #control: EventSourcingControl;

  constructor(
    readonly info: ActorTypeInfo,
    readonly instance: EventSourcedActor<unknown, { type: string }>,
    readonly stream: string,
    readonly services: ActivationServices,
    snapshotVersionLoaded: number,
    /** The actor's handle, shared with its turn executor: one per activation, not one per user. */
    control: EventSourcingControl = instance[eventSourcing],
  ) {
    this.#lastSnapshotVersion = snapshotVersionLoaded;
    this.#control = control;
  }

  afterCommit(): void {
    const every = this.info.snapshotEvery;
    if (every > 0 && this.#control.durableVersion - this.#lastSnapshotVersion >= every)
      this.services.background(this.take());
  }

  /** Saves a snapshot of the durable state if any event came after the last one (never of pending events). */
  async take(): Promise<void> {
    const version = this.#control.durableVersion;
    if (this.info.snapshotEvery === 0 || version <= this.#lastSnapshotVersion) return;
    let state: ReturnType<typeof this.instance.toSnapshot>;
    try {
      state = this.instance.toSnapshot(this.#control.durableState);
      assertJsonCompatible(state, "$.state");
    } catch (error) {
      if (!this.#warned) {
        this.#warned = true;
        this.services.logger.warn(
          { actor: this.stream, err: messageOf(error) },
          "state is not JSON-compatible, so no snapshot is taken: override toSnapshot/fromSnapshot or set snapshotEvery = 0",
        );
      }
      return;
    }
    this.#lastSnapshotVersion = version;
    try {
      await this.services.snapshots.save({
        stream: this.stream,
        version,
        snapshotVersion: this.info.snapshotVersion,
        state,
        timestamp: new Date(this.services.clock.now()).toISOString(),
      });
    } catch (error) {
      // A purge won the race: the store refused to write the purged state back, as it must.
      if (isGranaryError(error, ErrorCode.StreamPurged)) {
        this.services.logger.debug({ actor: this.stream }, "snapshot refused: the stream was purged");
        return;
      }
      this.services.logger.warn(
        { actor: this.stream, err: messageOf(error) },
        "snapshot save failed; replay will be longer",
      );
    }
  }
}
