import { REMINDERS_SQL } from "./reminder-schema.js";

/**
 * The schema, as an ordered list of migrations. A migration is never edited once released: changes
 * go into a new one, so every database file walks the same path.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const APPEND_ONLY_MESSAGE = "granary: events are append-only (only purge may delete them)";

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "events, streams, snapshots, append-only triggers",
    sql: `
      CREATE TABLE events (
        -- AUTOINCREMENT: a purged event's position is never handed out again.
        position       INTEGER PRIMARY KEY AUTOINCREMENT,
        namespace      TEXT    NOT NULL,
        stream         TEXT    NOT NULL,
        version        INTEGER NOT NULL,
        id             TEXT    NOT NULL,
        type           TEXT    NOT NULL,
        schema_version INTEGER NOT NULL,
        data           TEXT    NOT NULL,
        metadata       TEXT    NOT NULL,
        timestamp      TEXT    NOT NULL,
        UNIQUE (namespace, stream, version),
        -- Per namespace, so one tenant cannot learn (or block) another tenant's event ids.
        UNIQUE (namespace, id)
      ) STRICT;
      CREATE INDEX events_feed ON events (namespace, position);

      CREATE TABLE streams (
        namespace    TEXT    NOT NULL,
        stream       TEXT    NOT NULL,
        version      INTEGER NOT NULL,
        -- Highest fencing epoch accepted; NULL until an append carries one.
        epoch        INTEGER,
        purged_at    TEXT,
        purge_reason TEXT,
        purged_by    TEXT,
        PRIMARY KEY (namespace, stream)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE snapshots (
        namespace        TEXT    NOT NULL,
        stream           TEXT    NOT NULL,
        version          INTEGER NOT NULL,
        snapshot_version INTEGER NOT NULL,
        state            TEXT    NOT NULL,
        timestamp        TEXT    NOT NULL,
        PRIMARY KEY (namespace, stream)
      ) STRICT, WITHOUT ROWID;

      -- One row; purge sets active = 1 inside its own transaction, so no other connection ever
      -- sees it set and every other UPDATE or DELETE of events is refused by the triggers below.
      CREATE TABLE purge_guard (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        active INTEGER NOT NULL CHECK (active IN (0, 1))
      ) STRICT;
      INSERT INTO purge_guard (id, active) VALUES (1, 0);

      CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
        WHEN (SELECT active FROM purge_guard WHERE id = 1) = 0
        BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY_MESSAGE}'); END;
      CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
        WHEN (SELECT active FROM purge_guard WHERE id = 1) = 0
        BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY_MESSAGE}'); END;
      -- A tombstone is permanent: the audit record of a purge may not be removed or rewritten.
      CREATE TRIGGER streams_tombstone_update BEFORE UPDATE ON streams
        WHEN OLD.purged_at IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'granary: a purged stream''s tombstone is permanent'); END;
      CREATE TRIGGER streams_tombstone_delete BEFORE DELETE ON streams
        WHEN OLD.purged_at IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'granary: a purged stream''s tombstone is permanent'); END;
    `,
  },
  {
    version: 2,
    name: "reminders with a due-time index; reminder partition epochs",
    sql: REMINDERS_SQL,
  },
  {
    version: 3,
    name: "snapshots kept per version (stateAt), snapshot purges, correlation index",
    sql: `
      -- Every snapshot is kept, not only the newest: stateAt starts from the newest one at or below
      -- the version it rebuilds.
      CREATE TABLE snapshots_by_version (
        namespace        TEXT    NOT NULL,
        stream           TEXT    NOT NULL,
        version          INTEGER NOT NULL,
        snapshot_version INTEGER NOT NULL,
        state            TEXT    NOT NULL,
        timestamp        TEXT    NOT NULL,
        PRIMARY KEY (namespace, stream, version)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO snapshots_by_version SELECT namespace, stream, version, snapshot_version, state, timestamp FROM snapshots;
      DROP TABLE snapshots;
      ALTER TABLE snapshots_by_version RENAME TO snapshots;

      -- Streams whose snapshots were purged: a save for them is refused in the save's own statement.
      CREATE TABLE snapshot_purges (
        namespace TEXT NOT NULL,
        stream    TEXT NOT NULL,
        purged_at TEXT NOT NULL,
        reason    TEXT NOT NULL,
        PRIMARY KEY (namespace, stream)
      ) STRICT, WITHOUT ROWID;

      -- EventStore.readCorrelated: every event of one correlation, in commit order.
      CREATE INDEX events_correlation ON events (namespace, json_extract(metadata, '$.correlationId'), position);
    `,
  },
];
