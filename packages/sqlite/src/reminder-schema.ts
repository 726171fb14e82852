/** Migration 2: reminders beside the events, so a standalone silo keeps them in its one file. */
export const REMINDERS_SQL = `
  CREATE TABLE reminders (
    namespace       TEXT    NOT NULL,
    stream          TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    registration_id TEXT    NOT NULL,
    due_at          INTEGER NOT NULL,
    period_ms       INTEGER NOT NULL,
    missed          TEXT    NOT NULL,
    partition       INTEGER NOT NULL,
    traceparent     TEXT,
    PRIMARY KEY (namespace, stream, name)
  ) STRICT, WITHOUT ROWID;
  -- The due-time index: a poll reads only what is due in the partitions it owns.
  CREATE INDEX reminders_due ON reminders (namespace, partition, due_at);

  -- Highest epoch that claimed each partition: older claims are fenced.
  CREATE TABLE reminder_partitions (
    namespace TEXT    NOT NULL,
    partition INTEGER NOT NULL,
    epoch     INTEGER NOT NULL,
    PRIMARY KEY (namespace, partition)
  ) STRICT, WITHOUT ROWID;
`;
