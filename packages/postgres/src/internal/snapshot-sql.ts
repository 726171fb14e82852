import { purgeSql } from "./schema-sql.js";

/** Class of the per-stream snapshot locks ("grns"; see lock-keys.ts for the two-int4 key space). */
const SNAPSHOT_LOCK_CLASS = 0x67726e73;

/** The transaction-level lock that orders a stream's snapshot saves with its purges. */
function lockStream(): string {
  return `PERFORM pg_advisory_xact_lock(${SNAPSHOT_LOCK_CLASS}, hashtext(p_namespace || '|' || p_stream));`;
}

/**
 * Migration 3: snapshots are kept per version (stateAt starts from the newest at or below its
 * target), saves go through `save_snapshot`, which refuses a purged stream, and purges take the
 * same per-stream lock first. Without the lock, a save and a purge running at once in READ
 * COMMITTED could each miss the other's uncommitted row and leave a snapshot of a purged stream.
 * Also the correlation index for `readCorrelated`.
 */
export function snapshotsByVersionSql(s: string): string {
  return `
ALTER TABLE ${s}.snapshots DROP CONSTRAINT snapshots_pkey;
ALTER TABLE ${s}.snapshots ADD PRIMARY KEY (namespace, stream, version);

CREATE TABLE ${s}.snapshot_purges (
  namespace text NOT NULL,
  stream text NOT NULL,
  purged_at timestamptz NOT NULL,
  reason text NOT NULL,
  PRIMARY KEY (namespace, stream)
);

-- Returns no row when saved; the purge (purged_at, reason) when the stream is purged.
CREATE FUNCTION ${s}.save_snapshot(p_namespace text, p_stream text, p_version bigint, p_snapshot_version integer,
  p_state jsonb, p_timestamp timestamptz)
RETURNS TABLE (purged_at text, reason text)
LANGUAGE plpgsql AS $$
BEGIN
  ${lockStream()}
  -- A new statement after the lock: it sees a purge that committed while this save waited.
  RETURN QUERY
    SELECT ${s}.iso8601(st.purged_at), st.purge_reason FROM ${s}.streams st
    WHERE st.namespace = p_namespace AND st.stream = p_stream AND st.purged_at IS NOT NULL
    UNION ALL
    SELECT ${s}.iso8601(sp.purged_at), sp.reason FROM ${s}.snapshot_purges sp
    WHERE sp.namespace = p_namespace AND sp.stream = p_stream
    LIMIT 1;
  IF FOUND THEN RETURN; END IF;
  INSERT INTO ${s}.snapshots AS sn (namespace, stream, version, snapshot_version, state, "timestamp")
  VALUES (p_namespace, p_stream, p_version, p_snapshot_version, p_state, p_timestamp)
  ON CONFLICT (namespace, stream, version) DO UPDATE
    SET snapshot_version = EXCLUDED.snapshot_version, state = EXCLUDED.state, "timestamp" = EXCLUDED."timestamp",
        saved_at = now();
END $$;

CREATE FUNCTION ${s}.purge_snapshots(p_namespace text, p_stream text, p_purged_at timestamptz, p_reason text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  ${lockStream()}
  INSERT INTO ${s}.snapshot_purges (namespace, stream, purged_at, reason)
  VALUES (p_namespace, p_stream, p_purged_at, p_reason) ON CONFLICT DO NOTHING;
  DELETE FROM ${s}.snapshots sn WHERE sn.namespace = p_namespace AND sn.stream = p_stream;
END $$;

${purgeSql(s, { replace: true, prelude: lockStream() })}

CREATE INDEX events_correlation_idx ON ${s}.events (namespace, (metadata->>'correlationId'), position);
`;
}
