import type { EventEnvelope, RawEventRef, RecordedEvent, Tombstone } from "@granary/core";

/**
 * An event as stored, without its closing brace: JSON with `id` first. The append script adds
 * `,"position":N}`, so what `redis-cli LRANGE` shows is exactly the RecordedEvent.
 */
export function encodeEventOpen(event: EventEnvelope): string {
  // Explicit fields: a RecordedEvent passed back in must not carry its old position along.
  const json = JSON.stringify({
    id: event.id,
    type: event.type,
    stream: event.stream,
    version: event.version,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
    timestamp: event.timestamp,
  });
  return json.slice(0, -1);
}

/** Parses a stored event; throws an Error saying what is wrong (decodeRows reports it). */
export function decodeEvent(json: string): RecordedEvent {
  if (json === "") throw new Error("the stored event is missing");
  const value: unknown = JSON.parse(json);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("the stored event is not a JSON object");
  }
  const event = value as Record<string, unknown>;
  for (const field of ["id", "type", "stream", "timestamp"]) {
    if (typeof event[field] !== "string") throw new Error(`the stored event has no string "${field}"`);
  }
  for (const field of ["version", "schemaVersion", "position"]) {
    if (!Number.isSafeInteger(event[field])) throw new Error(`the stored event has no integer "${field}"`);
  }
  for (const field of ["data", "metadata"]) {
    const v = event[field];
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw new Error(`the stored event's "${field}" is not an object`);
    }
  }
  return event as unknown as RecordedEvent;
}

/** What can be told about a stored event without decoding it, for error reports. */
export function refOfStoredEvent(json: string, stream: string, version: number, position?: number): RawEventRef {
  return { stream, version, position: position ?? positionOf(json) ?? 0, eventId: eventIdOf(json) ?? "" };
}

/** The feed position written into a stored event's JSON, or 0 when it has none. */
export function positionOfStoredEvent(json: string): number {
  return positionOf(json) ?? 0;
}

function positionOf(json: string): number | undefined {
  const match = /,"position":(\d+)}$/.exec(json);
  return match ? Number(match[1]) : undefined;
}

function eventIdOf(json: string): string | undefined {
  const match = /^\{"id":("(?:[^"\\]|\\.)*")/.exec(json);
  if (!match) return undefined;
  try {
    return JSON.parse(match[1] as string) as string;
  } catch {
    return undefined;
  }
}

/** The tombstone JSON without lastVersion and its closing brace: the purge script completes it. */
export function tombstonePrefix(tombstone: Omit<Tombstone, "lastVersion">): string {
  const json = JSON.stringify({
    stream: tombstone.stream,
    purgedAt: tombstone.purgedAt,
    reason: tombstone.reason,
    requestedBy: tombstone.requestedBy,
  });
  return json.slice(0, -1);
}

export function decodeTombstone(json: string): Tombstone {
  return JSON.parse(json) as Tombstone;
}
