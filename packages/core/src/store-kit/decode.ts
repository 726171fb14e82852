import { CorruptHistoryError, messageOf } from "../errors.js";
import type { RecordedEvent } from "../events/envelope.js";
import type { Upcasters } from "../events/upcasting.js";
import type { EventReadError, ReadWithErrorsResult } from "../ports/event-store.js";

/** Identifies a raw stored row for error reports before it is decoded. */
export interface RawEventRef {
  readonly stream: string;
  readonly version: number;
  readonly position: number;
  readonly eventId: string;
}

/**
 * Decodes raw rows (store-specific `decodeRow`) and applies upcasters, collecting per-event errors.
 * Stores build both `read` (throws on the first error) and `readWithErrors` on it.
 */
export function decodeRows<Row>(
  rows: readonly Row[],
  refOf: (row: Row) => RawEventRef,
  decodeRow: (row: Row) => RecordedEvent,
  upcasters: Upcasters | undefined,
): ReadWithErrorsResult {
  const events: RecordedEvent[] = [];
  const errors: EventReadError[] = [];
  for (const row of rows) {
    try {
      const event = decodeRow(row);
      events.push(upcasters ? upcasters.upcast(event) : event);
    } catch (cause) {
      errors.push({ ...refOf(row), message: messageOf(cause), cause });
    }
  }
  return { events, errors };
}

/** The strict read path: the first decode error becomes a CorruptHistoryError naming stream and version. */
export function throwOnReadErrors(result: ReadWithErrorsResult): RecordedEvent[] {
  const first = result.errors[0];
  if (first) throw new CorruptHistoryError(first.stream, first.version, first.message, first.cause);
  return [...result.events];
}
