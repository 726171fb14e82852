import type { EventEnvelope, EventMetadata, JsonObject, RawEventRef, RecordedEvent } from "@granary/core";

/** An `events` row as SQLite returns it. */
export interface EventRow {
  readonly position: number;
  readonly stream: string;
  readonly version: number;
  readonly id: string;
  readonly type: string;
  readonly schema_version: number;
  readonly data: string;
  readonly metadata: string;
  readonly timestamp: string;
}

/** Columns of `events` in the order of the insert statement's parameters. */
export type EventInsertParams = [
  namespace: string,
  stream: string,
  version: number,
  id: string,
  type: string,
  schemaVersion: number,
  data: string,
  metadata: string,
  timestamp: string,
];

export const EVENT_COLUMNS = "position, stream, version, id, type, schema_version, data, metadata, timestamp";

export function encodeEvent(namespace: string, event: EventEnvelope): EventInsertParams {
  return [
    namespace,
    event.stream,
    event.version,
    event.id,
    event.type,
    event.schemaVersion,
    JSON.stringify(event.data),
    JSON.stringify(event.metadata),
    event.timestamp,
  ];
}

/**
 * Turns a row back into an event. Throws when the stored JSON does not parse or is not an object,
 * which `decodeRows` reports as that event's read error.
 */
export function decodeEventRow(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    type: row.type,
    stream: row.stream,
    version: row.version,
    schemaVersion: row.schema_version,
    data: parseObject(row.data, "data") as JsonObject,
    metadata: parseObject(row.metadata, "metadata") as unknown as EventMetadata,
    timestamp: row.timestamp,
    position: row.position,
  };
}

export function refOfRow(row: EventRow): RawEventRef {
  return { stream: row.stream, version: row.version, position: row.position, eventId: row.id };
}

function parseObject(text: string, column: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new Error(`stored ${column} is not valid JSON (${(cause as Error).message})`, { cause });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`stored ${column} is not a JSON object`);
  }
  return value;
}
