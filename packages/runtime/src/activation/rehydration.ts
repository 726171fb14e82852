import {
  CorruptHistoryError,
  type EventSourcedActor,
  type EventSourcingControl,
  isGranaryError,
  messageOf,
  type RecordedEvent,
  type Snapshot,
} from "@granary/core";
import { eventSourcing } from "@granary/core/internal";
import type { ActivationServices } from "./activation-services.js";
import type { ActorTypeInfo } from "./actor-type-info.js";

const REPLAY_PAGE = 1_000;

/**
 * Rebuilds an event-sourced actor: newest snapshot of the class's current `snapshotVersion` (a
 * snapshot of another version is ignored, never misread), then replay of every later event.
 * Any event that cannot be applied, or a gap in versions, fails with CorruptHistoryError naming
 * stream and version: the actor never serves a half-rebuilt state.
 *
 * With `target`, rebuilds the state right after that version instead (stateAt): from the newest
 * snapshot at or below it, replaying up to it and no further.
 *
 * @param snapshot the newest snapshot, already being read ({@link prefetchSnapshot}); only without `target`
 * @returns the version the loaded snapshot had (0 when replay started from the beginning)
 */
export async function rehydrate(
  info: ActorTypeInfo,
  instance: EventSourcedActor<unknown, { type: string }>,
  stream: string,
  services: Pick<ActivationServices, "store" | "snapshots" | "logger">,
  target?: number,
  snapshot?: Promise<Snapshot | undefined>,
): Promise<number> {
  const control = instance[eventSourcing];
  const snapshotVersion = await loadSnapshot(info, instance, control, stream, services, target, snapshot);
  for (;;) {
    const limit = target === undefined ? REPLAY_PAGE : Math.min(REPLAY_PAGE, target - control.version);
    if (limit <= 0) return snapshotVersion;
    const events = await services.store.read(stream, control.version + 1, { limit });
    for (const stored of events) {
      const event = upcast(info, stored, stream);
      if (event.version !== control.version + 1) {
        throw new CorruptHistoryError(stream, control.version + 1, `the store returned version ${event.version} next`);
      }
      try {
        control.replay(event.type, event.data);
      } catch (error) {
        if (isGranaryError(error, "CORRUPT_HISTORY")) throw error;
        throw new CorruptHistoryError(
          stream,
          event.version,
          `apply() threw on ${event.type}: ${messageOf(error)}`,
          error,
        );
      }
    }
    if (events.length < limit) return snapshotVersion;
  }
}

async function loadSnapshot(
  info: ActorTypeInfo,
  instance: EventSourcedActor<unknown, { type: string }>,
  control: EventSourcingControl,
  stream: string,
  services: Pick<ActivationServices, "snapshots" | "logger">,
  target: number | undefined,
  prefetched: Promise<Snapshot | undefined> | undefined,
): Promise<number> {
  const fresh = (): number => {
    control.reset(instance.initialState(), 0);
    return 0;
  };
  // A past state may start from a snapshot even when the class no longer takes new ones.
  if (info.snapshotEvery === 0 && target === undefined) return fresh();
  const snapshot =
    target === undefined
      ? await (prefetched ?? services.snapshots.load(stream))
      : await services.snapshots.loadAtOrBelow(stream, target, info.snapshotVersion);
  if (!snapshot) return fresh();
  if (snapshot.snapshotVersion !== info.snapshotVersion) {
    services.logger.debug(
      { actor: stream, found: snapshot.snapshotVersion, expected: info.snapshotVersion },
      "ignoring snapshot of another snapshotVersion; replaying from the first event",
    );
    return fresh();
  }
  try {
    control.reset(instance.fromSnapshot(snapshot.state), snapshot.version);
    return snapshot.version;
  } catch (error) {
    services.logger.warn(
      { actor: stream, err: messageOf(error) },
      "snapshot could not be loaded; replaying from the first event",
    );
    return fresh();
  }
}

/**
 * Starts reading the newest snapshot of an event-sourced actor before its activation has
 * registered, so the two round trips overlap (undefined when the class takes no snapshots). Safe
 * because a snapshot is only where replay starts: the events after it are read once registered,
 * and an append on top of a stale read fails on its expected version (a purged stream fails the
 * read). A rejection is kept for {@link rehydrate} to throw; unawaited (registration failed), it is
 * not reported.
 */
export function prefetchSnapshot(
  info: ActorTypeInfo,
  stream: string,
  services: Pick<ActivationServices, "snapshots">,
): Promise<Snapshot | undefined> | undefined {
  if (!info.eventSourced || info.snapshotEvery === 0) return undefined;
  const loading = services.snapshots.load(stream);
  loading.catch(() => {});
  return loading;
}

/** Applies the class's upcasters (a store may already have applied the same ones: then a no-op). */
export function upcast(info: ActorTypeInfo, event: RecordedEvent, stream: string): RecordedEvent {
  if (!info.upcasters) return event;
  try {
    return info.upcasters.upcast(event);
  } catch (error) {
    throw new CorruptHistoryError(
      stream,
      event.version,
      `upcasting ${event.type} v${event.schemaVersion} failed: ${messageOf(error)}`,
      error,
    );
  }
}
