import { DEFINER } from "./sql.js";

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

/**
 * The reminder store's writes (migration 5), each one statement running as its owner, so the
 * application role changes reminders and partition epochs only through them:
 * - `upsert_reminder` registers or replaces a reminder;
 * - `cancel_reminder` / `cancel_reminders` delete one / all of a stream's, returning how many;
 * - `claim_reminder_partitions` raises each claimed partition's epoch (never lowers it) and
 *   returns the partitions a higher epoch holds (the caller is fenced there);
 * - `advance_reminder` moves a fired reminder to its next due time (or deletes it) only if it is
 *   still the same registration at the same due time and its partition is not held by a higher
 *   epoch, and says what it did: 'advanced', 'fenced' or 'changed'.
 */
export function reminderFunctionsSql(s: string): string {
  const notFenced = `NOT EXISTS (SELECT 1 FROM ${s}.reminder_partitions rp
      WHERE rp.namespace = p_namespace AND rp.partition = p_partition AND rp.epoch > p_epoch)`;
  const same = `r.namespace = p_namespace AND r.stream = p_stream AND r.name = p_name
      AND r.registration_id = p_registration_id AND r.due_at = p_due_at`;
  return `
CREATE OR REPLACE FUNCTION ${s}.upsert_reminder(p_namespace text, p_stream text, p_name text,
  p_registration_id text, p_due_at bigint, p_period_ms bigint, p_missed text, p_partition integer, p_traceparent text)
RETURNS void
LANGUAGE sql ${DEFINER} AS $$
  INSERT INTO ${s}.reminders AS r
    (namespace, stream, name, registration_id, due_at, period_ms, missed, partition, traceparent)
  VALUES (p_namespace, p_stream, p_name, p_registration_id, p_due_at, p_period_ms, p_missed, p_partition, p_traceparent)
  ON CONFLICT (namespace, stream, name) DO UPDATE SET registration_id = EXCLUDED.registration_id,
    due_at = EXCLUDED.due_at, period_ms = EXCLUDED.period_ms, missed = EXCLUDED.missed,
    partition = EXCLUDED.partition, traceparent = EXCLUDED.traceparent;
$$;

CREATE OR REPLACE FUNCTION ${s}.cancel_reminder(p_namespace text, p_stream text, p_name text)
RETURNS integer
LANGUAGE sql ${DEFINER} AS $$
  WITH gone AS (
    DELETE FROM ${s}.reminders r WHERE r.namespace = p_namespace AND r.stream = p_stream AND r.name = p_name
    RETURNING 1
  )
  SELECT count(*)::integer FROM gone;
$$;

CREATE OR REPLACE FUNCTION ${s}.cancel_reminders(p_namespace text, p_stream text)
RETURNS integer
LANGUAGE sql ${DEFINER} AS $$
  WITH gone AS (
    DELETE FROM ${s}.reminders r WHERE r.namespace = p_namespace AND r.stream = p_stream RETURNING 1
  )
  SELECT count(*)::integer FROM gone;
$$;

CREATE OR REPLACE FUNCTION ${s}.claim_reminder_partitions(p_namespace text, p_partitions integer[], p_epochs bigint[])
RETURNS TABLE (fenced integer)
LANGUAGE plpgsql ${DEFINER} AS $$
BEGIN
  -- Writes only where a claim's epoch is higher than the stored one.
  INSERT INTO ${s}.reminder_partitions AS rp (namespace, partition, epoch)
    SELECT p_namespace, c.partition, c.epoch FROM unnest(p_partitions, p_epochs) AS c(partition, epoch)
  ON CONFLICT (namespace, partition) DO UPDATE SET epoch = EXCLUDED.epoch WHERE rp.epoch < EXCLUDED.epoch;
  RETURN QUERY
    SELECT rp.partition FROM ${s}.reminder_partitions rp
    JOIN unnest(p_partitions, p_epochs) AS c(partition, epoch) ON c.partition = rp.partition
    WHERE rp.namespace = p_namespace AND rp.epoch > c.epoch;
END $$;

CREATE OR REPLACE FUNCTION ${s}.advance_reminder(p_namespace text, p_partition integer, p_epoch bigint,
  p_stream text, p_name text, p_registration_id text, p_due_at bigint, p_next_due_at bigint)
RETURNS text
LANGUAGE plpgsql ${DEFINER} AS $$
BEGIN
  IF p_next_due_at IS NULL THEN
    DELETE FROM ${s}.reminders r WHERE ${same} AND ${notFenced};
  ELSE
    UPDATE ${s}.reminders r SET due_at = p_next_due_at WHERE ${same} AND ${notFenced};
  END IF;
  IF FOUND THEN RETURN 'advanced'; END IF;
  IF NOT ${notFenced} THEN RETURN 'fenced'; END IF;
  RETURN 'changed';
END $$;
`;
}
