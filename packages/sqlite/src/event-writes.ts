import {
  type AppendOptions,
  type AppendResult,
  CorruptHistoryError,
  type EventEnvelope,
  FencedWriteError,
  IdempotencyConflictError,
  type JsonObject,
  messageOf,
  type PurgeRequest,
  StreamPurgedError,
  sameEventContent,
  type Tombstone,
  VersionConflictError,
} from "@granary/core";
import { decodeEventRow, type EventInsertParams, type EventRow } from "./row-codec.js";
import type { EventStatements, StreamRow } from "./statements.js";

/** An append as queued: events already encoded, so later mutation by the caller cannot change it. */
export interface QueuedAppend {
  readonly namespace: string;
  readonly stream: string;
  readonly expectedVersion: number;
  readonly rows: readonly EventInsertParams[];
  readonly options: AppendOptions;
}

/**
 * One append's checks and writes; runs inside the group transaction (and its own savepoint), so
 * the checks see every write committed or queued before it. Throws to refuse the append.
 */
export function writeAppend(statements: EventStatements, append: QueuedAppend): AppendResult {
  const { namespace, stream, expectedVersion, rows, options } = append;
  const head = statements.streamRow.get(namespace, stream);
  if (head?.purged_at) throw purgedError(stream, head);
  const actual = head?.version ?? 0;
  const fenced = options.epoch !== undefined && head?.epoch != null && options.epoch < head.epoch;
  // The common case (the stream is where the writer expects it) needs no look-up by event id: a
  // re-send cannot be stored at versions the stream has not reached, and an id used elsewhere in
  // the namespace is caught by the unique index, then explained below.
  if (actual !== expectedVersion || fenced) {
    const duplicate = detectDuplicate(statements, append);
    if (duplicate) return duplicate;
    if (fenced) throw new FencedWriteError(stream, options.epoch as number, head?.epoch as number);
    throw new VersionConflictError(stream, expectedVersion, actual);
  }
  let position = 0;
  try {
    for (const row of rows) position = Number(statements.insertEvent.run(...row).lastInsertRowid);
  } catch (error) {
    if ((error as { code?: string }).code !== "SQLITE_CONSTRAINT_UNIQUE") throw error;
    // The savepoint around this append undoes the rows already inserted.
    detectDuplicate(statements, append);
    throw error;
  }
  const version = expectedVersion + rows.length;
  statements.saveStreamHead.run(namespace, stream, version, options.epoch ?? null);
  return { version, position, duplicate: false };
}

/** A re-send of stored events is a no-op; a reused id with other content, or a partial re-send, is refused. */
function detectDuplicate(statements: EventStatements, append: QueuedAppend): AppendResult | undefined {
  const { namespace, stream, rows } = append;
  let last: EventRow | undefined;
  let firstNew: string | undefined;
  for (const row of rows) {
    const resent = envelopeOf(row);
    const stored = statements.eventById.get(namespace, resent.id);
    if (!stored) {
      firstNew ??= resent.id;
      continue;
    }
    if (stored.stream !== stream || stored.version !== resent.version) {
      throw new IdempotencyConflictError(stream, resent.id);
    }
    if (!sameEventContent(decodeStored(stored), resent)) throw new IdempotencyConflictError(stream, resent.id);
    last = stored;
  }
  if (!last) return undefined;
  // Part of the batch is stored and part is not: not a re-send of one append.
  if (firstNew !== undefined) throw new IdempotencyConflictError(stream, firstNew);
  return { version: last.version, position: last.position, duplicate: true };
}

/** Deletes a stream's events (and snapshot) and records the tombstone; the triggers allow it only here. */
export function writePurge(
  statements: EventStatements,
  namespace: string,
  stream: string,
  request: PurgeRequest,
): Tombstone {
  const head = statements.streamRow.get(namespace, stream);
  if (head?.purged_at) return tombstoneOf(stream, head);
  const purgedAt = new Date().toISOString();
  statements.setPurgeGuard.run(1);
  try {
    statements.deleteStreamEvents.run(namespace, stream);
  } finally {
    statements.setPurgeGuard.run(0);
  }
  // The snapshot holds the same personal data as the events.
  statements.deleteStreamSnapshot.run(namespace, stream);
  statements.saveTombstone.run(namespace, stream, purgedAt, request.reason, request.requestedBy);
  return {
    stream,
    purgedAt,
    reason: request.reason,
    requestedBy: request.requestedBy,
    lastVersion: head?.version ?? 0,
  };
}

export function tombstoneOf(stream: string, head: StreamRow): Tombstone {
  return {
    stream,
    purgedAt: head.purged_at as string,
    reason: head.purge_reason ?? "",
    requestedBy: head.purged_by ?? "",
    lastVersion: head.version,
  };
}

export function purgedError(stream: string, head: StreamRow): StreamPurgedError {
  return new StreamPurgedError(stream, head.purged_at as string, head.purge_reason ?? "");
}

function envelopeOf(row: EventInsertParams): EventEnvelope {
  const [, stream, version, id, type, schemaVersion, data, metadata, timestamp] = row;
  return {
    stream,
    version,
    id,
    type,
    schemaVersion,
    data: JSON.parse(data) as JsonObject,
    metadata: JSON.parse(metadata) as EventEnvelope["metadata"],
    timestamp,
  };
}

function decodeStored(row: EventRow): EventEnvelope {
  try {
    return decodeEventRow(row);
  } catch (cause) {
    throw new CorruptHistoryError(row.stream, row.version, messageOf(cause), cause);
  }
}
