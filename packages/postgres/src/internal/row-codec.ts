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

/**
 * A row of a one-stream read, as an array (`rowMode: "array"`), in {@link streamEventColumns}
 * order. The stream is the one asked for, so it is not selected: with pg building an object per row
 * by column name, the stream column and object rows cost ~20% of the client's time per event.
 */
export type StreamEventRow = readonly [
  position: string,
  version: string,
  id: string,
  type: string,
  schemaVersion: number,
  data: unknown,
  metadata: unknown,
  timestamp: string,
];

/** The last row of a stream read when the stream was purged: [null, null, null, reason, …, purgedAt]. */
export type TombstoneMarkerRow = readonly [
  position: null,
  version: null,
  id: null,
  reason: string,
  schemaVersion: null,
  data: null,
  metadata: null,
  purgedAt: string,
];

/** The select list matching {@link StreamEventRow}, for table alias `e`. */
export function streamEventColumns(s: string): string {
  return `e.position, e.version, e.id, e.type, e.schema_version, e.data, e.metadata, ${s}.iso8601(e."timestamp") AS "timestamp"`;
}

/** {@link decodeEventRow} for a row of `stream`'s read. */
export function decodeStreamEventRow(row: StreamEventRow, stream: string): RecordedEvent {
  return decodeEvent(row[0], stream, row[1], row[2], row[3], row[4], row[5], row[6], row[7]);
}

export function streamRefOf(row: StreamEventRow, stream: string): RawEventRef {
  return { stream, version: Number(row[1]), position: Number(row[0]), eventId: row[2] };
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
  return decodeEvent(
    row.position,
    row.stream,
    row.version,
    row.id,
    row.type,
    row.schema_version,
    row.data,
    row.metadata,
    row.timestamp,
  );
}

function decodeEvent(
  rawPosition: string,
  stream: string,
  version: string,
  id: string,
  type: string,
  schemaVersion: number,
  data: unknown,
  metadata: unknown,
  timestamp: string,
): RecordedEvent {
  if (!isObject(data)) throw new Error(`event data is ${describeJson(data)}, not a JSON object`);
  if (!isObject(metadata)) throw new Error(`event metadata is ${describeJson(metadata)}, not a JSON object`);
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1) {
    throw new Error(`schema version ${schemaVersion} is not an integer >= 1`);
  }
  const position = Number(rawPosition);
  if (!Number.isSafeInteger(position)) throw new Error(`position ${rawPosition} exceeds JavaScript's safe integers`);
  return {
    id,
    type,
    stream,
    version: Number(version),
    schemaVersion,
    data,
    metadata: metadata as unknown as EventMetadata,
    timestamp,
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
