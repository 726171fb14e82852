/** Migration 3: reminders in the events' database, with a due-time index and partition epochs. */
export function remindersSql(s: string): string {
  return `
CREATE TABLE ${s}.reminders (
  namespace text NOT NULL,
  stream text NOT NULL,
  name text NOT NULL,
  -- New for every registration: a tick of a replaced registration can never advance the new one.
  registration_id text NOT NULL,
  due_at bigint NOT NULL,
  period_ms bigint NOT NULL,
  missed text NOT NULL,
  partition integer NOT NULL,
  traceparent text,
  PRIMARY KEY (namespace, stream, name)
);
-- The due-time index: a poll reads only what is due in the partitions it owns.
CREATE INDEX reminders_due_idx ON ${s}.reminders (namespace, partition, due_at);

-- Highest epoch that claimed each partition: a silo whose partition moved cannot fire or advance.
CREATE TABLE ${s}.reminder_partitions (
  namespace text NOT NULL,
  partition integer NOT NULL,
  epoch bigint NOT NULL,
  PRIMARY KEY (namespace, partition)
);
`;
}
