import { type CorrelatedReadOptions, type EventStore, InvalidArgumentError, type RecordedEvent } from "@granary/core";

/**
 * `store.readCorrelated`, which the port leaves optional: a store without it is refused with an
 * InvalidArgumentError saying so, the same way wherever a correlated read is asked for (the history
 * service, a sealing store wrapping another).
 *
 * @throws InvalidArgumentError when the store does not implement readCorrelated.
 */
export async function readCorrelated(
  store: EventStore,
  correlationId: string,
  options?: CorrelatedReadOptions,
): Promise<RecordedEvent[]> {
  if (!store.readCorrelated) {
    throw new InvalidArgumentError(
      "the silo's event store does not implement readCorrelated, so correlated() cannot answer; every Granary store (memory, SQLite, Redis, PostgreSQL) does",
    );
  }
  return store.readCorrelated(correlationId, options);
}
