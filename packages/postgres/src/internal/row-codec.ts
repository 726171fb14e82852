import type { EventEnvelope, EventMetadata, JsonObject, RawEventRef, RecordedEvent } from "@granary/core";

/** An events row as the read queries select it (bigint columns arrive as strings). */
export interface EventRow {
  readonly position: string;
  readonly stream: string;
  readonly version: string;
  readonly id: string;
  readonly type: string;
  readonly schema_version: number;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly timestamp: string;
}

/** The select list matching {@link EventRow}, for table alias `e`. */
export function eventColumns(s: string): string {
  return `e.position, e.stream, e.version, e.id, e.type, e.schema_version, e.data, e.metadata, ${s}.iso8601(e."timestamp") AS "timestamp"`;
}

/** The jsonb array `append` takes: what is stored per event, in order. */
export function encodeEvents(events: readonly EventEnvelope[]): string {
  return JSON.stringify(
    events.map((e) => ({
      id: e.id,
      type: e.type,
      schemaVersion: e.schemaVersion,
      data: e.data,
      metadata: e.metadata,
      timestamp: e.timestamp,
    })),
  );
}

export function refOf(row: EventRow): RawEventRef {
  return { stream: row.stream, version: Number(row.version), position: Number(row.position), eventId: row.id };
}

/** Checks the shape a row must have; a row written around the store's API may not have it. */
export function decodeEventRow(row: EventRow): RecordedEvent {
  if (!isObject(row.data)) throw new Error(`event data is ${describeJson(row.data)}, not a JSON object`);
  if (!isObject(row.metadata)) throw new Error(`event metadata is ${describeJson(row.metadata)}, not a JSON object`);
  if (!Number.isInteger(row.schema_version) || row.schema_version < 1) {
    throw new Error(`schema version ${row.schema_version} is not an integer >= 1`);
  }
  const position = Number(row.position);
  if (!Number.isSafeInteger(position)) throw new Error(`position ${row.position} exceeds JavaScript's safe integers`);
  return {
    id: row.id,
    type: row.type,
    stream: row.stream,
    version: Number(row.version),
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata as unknown as EventMetadata,
    timestamp: row.timestamp,
    position,
  };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
