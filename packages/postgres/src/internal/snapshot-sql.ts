import { streamSnapshotLockSql } from "./lock-keys.js";
import { purgeSql } from "./schema-sql.js";
import { DEFINER } from "./sql.js";

/**
 * Migration 4: snapshots are kept per version (stateAt starts from the newest at or below its
 * target), saves go through `save_snapshot`, which refuses a purged stream, and purges take the
 * same per-stream lock first (lock-keys.ts). Also the correlation index for `readCorrelated`.
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

${snapshotFunctionsSql(s)}

${purgeSql(s)}

CREATE INDEX events_correlation_idx ON ${s}.events (namespace, (metadata->>'correlationId'), position);
`;
}

/**
 * The snapshot store's writes, each running as its owner: `save_snapshot` returns no row when
 * saved and the purge (purged_at, reason) when the stream is purged; `purge_snapshots` records a
 * snapshot purge and deletes the stream's snapshots; `delete_snapshots` (since migration 5, when
 * the application role lost DELETE on the table) deletes them.
 */
export function snapshotFunctionsSql(s: string): string {
  return `
CREATE OR REPLACE FUNCTION ${s}.save_snapshot(p_namespace text, p_stream text, p_version bigint,
  p_snapshot_version integer, p_state jsonb, p_timestamp timestamptz)
RETURNS TABLE (purged_at text, reason text)
LANGUAGE plpgsql ${DEFINER} AS $$
BEGIN
  ${streamSnapshotLockSql()}
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

CREATE OR REPLACE FUNCTION ${s}.purge_snapshots(p_namespace text, p_stream text, p_purged_at timestamptz, p_reason text)
RETURNS void
LANGUAGE plpgsql ${DEFINER} AS $$
BEGIN
  ${streamSnapshotLockSql()}
  INSERT INTO ${s}.snapshot_purges (namespace, stream, purged_at, reason)
  VALUES (p_namespace, p_stream, p_purged_at, p_reason) ON CONFLICT DO NOTHING;
  DELETE FROM ${s}.snapshots sn WHERE sn.namespace = p_namespace AND sn.stream = p_stream;
END $$;

CREATE OR REPLACE FUNCTION ${s}.delete_snapshots(p_namespace text, p_stream text)
RETURNS void
LANGUAGE sql ${DEFINER} AS $$
  DELETE FROM ${s}.snapshots sn WHERE sn.namespace = p_namespace AND sn.stream = p_stream;
$$;
`;
}
