import type { Database, Statement } from "better-sqlite3";
import {
  EVENT_COLUMNS,
  type EventInsertParams,
  type EventRow,
  type RawEventRow,
  type RawStreamEventRow,
  STREAM_EVENT_COLUMNS,
} from "./row-codec.js";

export interface StreamRow {
  readonly version: number;
  readonly epoch: number | null;
  readonly purged_at: string | null;
  readonly purge_reason: string | null;
  readonly purged_by: string | null;
}

/** Every statement the event store runs, prepared once per connection. */
export interface EventStatements {
  readonly streamRow: Statement<[namespace: string, stream: string], StreamRow>;
  /** `PRAGMA data_version` (plucked): changes when another connection commits to the file. */
  readonly dataVersion: Statement<[], number>;
  readonly eventById: Statement<[namespace: string, id: string], EventRow>;
  readonly insertEvent: Statement<EventInsertParams>;
  readonly saveStreamHead: Statement<[namespace: string, stream: string, version: number, epoch: number | null]>;
  /** Raw mode (arrays). */
  readonly readStream: Statement<
    [namespace: string, stream: string, fromVersion: number, limit: number],
    RawStreamEventRow
  >;
  /** Raw mode (arrays). */
  readonly readAll: Statement<[namespace: string, fromPosition: number, limit: number], RawEventRow>;
  /** Raw mode (arrays). */
  readonly readCorrelated: Statement<
    [namespace: string, correlationId: string, afterPosition: number, limit: number],
    RawEventRow
  >;
  readonly setPurgeGuard: Statement<[active: 0 | 1]>;
  readonly deleteStreamEvents: Statement<[namespace: string, stream: string]>;
  readonly deleteStreamSnapshot: Statement<[namespace: string, stream: string]>;
  readonly saveTombstone: Statement<
    [namespace: string, stream: string, purgedAt: string, reason: string, requestedBy: string]
  >;
}

export function prepareEventStatements(db: Database): EventStatements {
  return {
    streamRow: db.prepare(
      "SELECT version, epoch, purged_at, purge_reason, purged_by FROM streams WHERE namespace = ? AND stream = ?",
    ),
    eventById: db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE namespace = ? AND id = ?`),
    insertEvent: db.prepare(
      `INSERT INTO events (namespace, stream, version, id, type, schema_version, data, metadata, timestamp)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // The epoch only grows: the caller checked the new one is not older.
    saveStreamHead: db.prepare(
      `INSERT INTO streams (namespace, stream, version, epoch) VALUES (?, ?, ?, ?)
       ON CONFLICT (namespace, stream) DO UPDATE SET version = excluded.version, epoch = coalesce(excluded.epoch, epoch)`,
    ),
    // Prepared once: a waiting subscriber reads it after every wake-up, and db.pragma() parses anew.
    dataVersion: db.prepare<[], number>("PRAGMA data_version").pluck(),
    readStream: db
      .prepare<[string, string, number, number], RawStreamEventRow>(
        `SELECT ${STREAM_EVENT_COLUMNS} FROM events WHERE namespace = ? AND stream = ? AND version >= ? ORDER BY version LIMIT ?`,
      )
      .raw(true),
    readAll: db
      .prepare<[string, number, number], RawEventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE namespace = ? AND position > ? ORDER BY position LIMIT ?`,
      )
      .raw(true),
    // The expression matches the events_correlation index (migration 2) exactly, so SQLite uses it.
    readCorrelated: db
      .prepare<[string, string, number, number], RawEventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events
       WHERE namespace = ? AND json_extract(metadata, '$.correlationId') = ? AND position > ?
       ORDER BY position LIMIT ?`,
      )
      .raw(true),
    setPurgeGuard: db.prepare("UPDATE purge_guard SET active = ? WHERE id = 1"),
    deleteStreamEvents: db.prepare("DELETE FROM events WHERE namespace = ? AND stream = ?"),
    deleteStreamSnapshot: db.prepare("DELETE FROM snapshots WHERE namespace = ? AND stream = ?"),
    saveTombstone: db.prepare(
      `INSERT INTO streams (namespace, stream, version, purged_at, purge_reason, purged_by)
       VALUES (?, ?, 0, ?, ?, ?)
       ON CONFLICT (namespace, stream) DO UPDATE SET
         purged_at = excluded.purged_at, purge_reason = excluded.purge_reason, purged_by = excluded.purged_by`,
    ),
  };
}
