/**
 * Tables, the append-only trigger and purge, as created by migration 1. Everything lives in one
 * schema (`s`, already validated as a plain identifier), so several applications can share a database.
 */
import { streamSnapshotLockSql } from "./lock-keys.js";
import { DEFINER } from "./sql.js";

/** SQLSTATEs Granary raises; the client maps them to Granary errors (error-mapping.ts). */
export const SqlState = {
  VersionConflict: "GR001",
  FencedWrite: "GR002",
  IdempotencyConflict: "GR003",
  StreamPurged: "GR004",
  AppendOnly: "GR005",
  NotFirstWrite: "GR006",
  /** A call of a Granary function with arguments the stores never send (no events, arrays that disagree). */
  InvalidCall: "GR007",
} as const;

export function tablesSql(s: string): string {
  return `
CREATE TABLE ${s}.streams (
  namespace text NOT NULL,
  stream text NOT NULL,
  version bigint NOT NULL,
  -- Highest fencing epoch accepted: an append with a lower one is a zombie activation.
  epoch bigint NOT NULL DEFAULT 0,
  -- The tombstone: set once by purge, never cleared.
  purged_at timestamptz,
  purged_by text,
  purge_reason text,
  PRIMARY KEY (namespace, stream)
);

CREATE TABLE ${s}.events (
  position bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME ${s}.events_position_seq) PRIMARY KEY,
  -- Top-level transaction that wrote the event: the feed only returns events of finished transactions.
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  namespace text NOT NULL,
  stream text NOT NULL,
  version bigint NOT NULL,
  id text NOT NULL,
  type text NOT NULL,
  schema_version integer NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  "timestamp" timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_stream_version_key UNIQUE (namespace, stream, version),
  -- Event ids are the idempotency key, scoped per namespace so tenants cannot probe each other's ids.
  CONSTRAINT events_id_key UNIQUE (namespace, id)
);
CREATE INDEX events_feed_idx ON ${s}.events (namespace, position);

CREATE TABLE ${s}.snapshots (
  namespace text NOT NULL,
  stream text NOT NULL,
  version bigint NOT NULL,
  snapshot_version integer NOT NULL,
  state jsonb NOT NULL,
  "timestamp" timestamptz NOT NULL,
  saved_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, stream)
);

-- ISO 8601 in UTC with milliseconds, exactly as JavaScript's Date#toISOString writes it.
CREATE FUNCTION ${s}.iso8601(ts timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
  $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;
`;
}

/**
 * Append-only, enforced by the database: UPDATE, DELETE and TRUNCATE on events fail, except the
 * DELETE that purge() runs, which must (1) run with the transaction-local setting
 * `granary.purge = 'on'` and (2) target a stream whose tombstone is already written. Tombstones
 * cannot be changed or removed either. (A superuser can still disable triggers: this guards against
 * mistakes and casual tampering, and every purge leaves its who/when/why.)
 */
export function appendOnlySql(s: string): string {
  return `
CREATE FUNCTION ${s}.reject_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('granary.purge', true) = 'on' THEN
    IF EXISTS (SELECT 1 FROM ${s}.streams st
               WHERE st.namespace = OLD.namespace AND st.stream = OLD.stream AND st.purged_at IS NOT NULL) THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION 'granary events are append-only: % on %.% is not allowed', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = '${SqlState.AppendOnly}',
          HINT = 'Events are never updated or deleted. To erase a stream (right to be forgotten) call EventStore.purge(stream, { reason, requestedBy }), which leaves an audited tombstone.';
END $$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON ${s}.events
  FOR EACH ROW EXECUTE FUNCTION ${s}.reject_event_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON ${s}.events
  FOR EACH STATEMENT EXECUTE FUNCTION ${s}.reject_event_change();

CREATE FUNCTION ${s}.reject_tombstone_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'granary tombstones are permanent: % of the tombstone of stream "%" is not allowed', TG_OP, OLD.stream
    USING ERRCODE = '${SqlState.AppendOnly}';
END $$;

-- WHEN keeps ordinary appends free of a trigger call: only rows that already carry a tombstone fire it.
CREATE TRIGGER tombstones_permanent BEFORE UPDATE OR DELETE ON ${s}.streams
  FOR EACH ROW WHEN (OLD.purged_at IS NOT NULL) EXECUTE FUNCTION ${s}.reject_tombstone_change();
CREATE TRIGGER streams_no_truncate BEFORE TRUNCATE ON ${s}.streams
  FOR EACH STATEMENT EXECUTE FUNCTION ${s}.reject_event_change();
`;
}

/**
 * purge(): one transaction that writes the tombstone (or keeps the first one), then deletes the
 * stream's events and snapshots. The tombstone row lock orders it with appends: an append in flight
 * commits first and its events are deleted too; a later append sees the tombstone. The per-stream
 * snapshot lock (since migration 4) orders it with snapshot saves. It runs as its owner, so the
 * application role can purge (leaving the audited tombstone) but never delete events itself.
 */
export function purgeSql(s: string): string {
  return `
CREATE OR REPLACE FUNCTION ${s}.purge(p_namespace text, p_stream text, p_reason text, p_requested_by text)
RETURNS TABLE (purged_at text, purge_reason text, purged_by text, last_version bigint)
LANGUAGE plpgsql ${DEFINER} AS $$
BEGIN
  ${streamSnapshotLockSql()}
  INSERT INTO ${s}.streams AS st (namespace, stream, version, purged_at, purged_by, purge_reason)
  VALUES (p_namespace, p_stream, 0, date_trunc('milliseconds', now()), p_requested_by, p_reason)
  ON CONFLICT (namespace, stream) DO UPDATE
    SET purged_at = EXCLUDED.purged_at, purged_by = EXCLUDED.purged_by, purge_reason = EXCLUDED.purge_reason
    WHERE st.purged_at IS NULL;
  PERFORM set_config('granary.purge', 'on', true);
  DELETE FROM ${s}.events e WHERE e.namespace = p_namespace AND e.stream = p_stream;
  DELETE FROM ${s}.snapshots sn WHERE sn.namespace = p_namespace AND sn.stream = p_stream;
  PERFORM set_config('granary.purge', 'off', true);
  RETURN QUERY
    SELECT ${s}.iso8601(st.purged_at), st.purge_reason, st.purged_by, st.version
    FROM ${s}.streams st WHERE st.namespace = p_namespace AND st.stream = p_stream;
END $$;
`;
}
