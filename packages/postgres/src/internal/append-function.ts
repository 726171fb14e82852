import { feedLockKey, LOCK_CLASS } from "./lock-keys.js";
import { SqlState } from "./schema-sql.js";
import { DEFINER } from "./sql.js";
import { indent, streamGuardSql } from "./stream-guard-sql.js";

/**
 * `append(namespace, stream, expected, epoch, events jsonb)`: the whole append in one round trip.
 *
 * ## How the global feed never skips an event that commits late
 *
 * Positions come from a sequence, which hands out numbers before commit: position 11 can commit
 * while 10 is still in flight, and a reader that returned 11 would never go back for 10.
 *
 * Each event row records its top-level transaction id (`transaction_id xid8`), and the feed only
 * returns events of transactions older than the reader's snapshot xmin:
 * `transaction_id < pg_snapshot_xmin(pg_current_snapshot())` — every transaction below xmin has
 * finished, so nothing with such an id can still appear (the approach of Marten, Emmett and
 * Message DB). That alone is not enough when the feed is ordered by position: transaction A can
 * take its xid before B but its positions after B's, commit first, and become readable at
 * positions above B's while B (xid above xmin) is still running — a reader would skip B's events.
 *
 * So the xid and the positions of an append are taken together, in a critical section under a
 * session-level advisory lock that is released at once (not held until commit, so appenders still
 * run their row locks, inserts and commit flushes in parallel): within it the transaction gets its
 * xid (it must not have one yet: append must be the first write of its transaction) and its
 * positions. Hence position order equals xid order: if event E is readable (xid(E) < xmin) and
 * F has a lower position, then xid(F) <= xid(E) < xmin, so F's transaction has finished and F is
 * readable in the same snapshot (or was rolled back: positions may have gaps, never late arrivals).
 * The critical section holds no other lock and touches nothing that can wait; if it is cancelled
 * half-way, the client discards the connection, which releases the lock.
 *
 * `append_many` (append-many-function.ts, group commit) takes the same critical section once for
 * its whole transaction: the batch's xid and the positions of all its events.
 *
 * Cost: one lock/unlock pair per append, held for microseconds. Liveness caveat: a long-running
 * transaction that holds an xid anywhere in the cluster holds the feed back (never loses events)
 * until it ends.
 *
 * ## Append steps
 * 1. The feed critical section above.
 * 2. The optimistic concurrency check (stream-guard-sql.ts): an UPDATE of the streams row guarded
 *    by `version = expected`, no tombstone and `epoch <= given epoch` (for expectedVersion 0, the
 *    insert of the row of a new stream, if it has none); it row-locks the stream until commit,
 *    and raises the stored epoch to the highest accepted. When the guard fails,
 *    explain_rejected_append finds out why (purged, idempotent re-send, same id with other
 *    content, fenced, version conflict); rejected appends leave gaps in positions.
 * 3. One multi-row INSERT of all events from the jsonb array.
 * Rejections raise SQLSTATE GR001-GR004 with a JSON DETAIL, which the client maps to Granary errors.
 *
 * It runs as its owner (`SECURITY DEFINER`, sql.ts), so it is the application role's only way to
 * write events and stream rows: it refuses an append without events, which would otherwise raise
 * a stream's epoch while leaving no trace in its history.
 */
export function appendFunctionSql(s: string): string {
  const lock = `${LOCK_CLASS}, ${feedLockKey(s)}`;
  return `
${explainRejectedAppendSql(s)}
CREATE OR REPLACE FUNCTION ${s}.append(
  p_namespace text, p_stream text, p_expected bigint, p_epoch bigint, p_events jsonb,
  OUT version bigint, OUT "position" bigint, OUT duplicate boolean
) LANGUAGE plpgsql ${DEFINER} AS $$
DECLARE
  v_count integer := jsonb_array_length(p_events);
  v_xid xid8;
  v_positions bigint[];
BEGIN
  IF coalesce(v_count, 0) = 0 THEN
    RAISE EXCEPTION 'granary append needs at least one event' USING ERRCODE = '${SqlState.InvalidCall}';
  END IF;
  IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
    RAISE EXCEPTION 'granary append must be the first write of its transaction'
      USING ERRCODE = '${SqlState.NotFirstWrite}',
            HINT = 'The feed orders events by the transaction id taken inside append; run append first or on its own.';
  END IF;

  -- 1. Feed critical section: this transaction's xid and its positions, in one global order.
  PERFORM pg_advisory_lock(${lock});
  v_xid := pg_current_xact_id();
  IF v_count = 1 THEN
    v_positions := ARRAY[nextval('${s}.events_position_seq')];
  ELSE
    v_positions := ARRAY(SELECT nextval('${s}.events_position_seq') FROM generate_series(1, v_count));
  END IF;
  PERFORM pg_advisory_unlock(${lock});

  -- 2. Optimistic concurrency and fencing, row-locking the stream until commit.
  ${indent(streamGuardSql(s, { namespace: "p_namespace", stream: "p_stream", expected: "p_expected", count: "v_count", epoch: "p_epoch" }), 2)}
  IF NOT FOUND THEN
    -- Raises the reason (purged, fenced, version conflict), or returns an idempotent re-send.
    SELECT r.version, r."position", r.duplicate INTO version, "position", duplicate
      FROM ${s}.explain_rejected_append(p_namespace, p_stream, p_expected, p_epoch, p_events) r;
    RETURN;
  END IF;

  -- 3. All events in one INSERT.
  INSERT INTO ${s}.events AS e
    (position, transaction_id, namespace, stream, version, id, type, schema_version, data, metadata, "timestamp")
  OVERRIDING SYSTEM VALUE
  SELECT v_positions[i.ord], v_xid, p_namespace, p_stream, p_expected + i.ord, i.event->>'id', i.event->>'type',
         (i.event->>'schemaVersion')::integer, i.event->'data', i.event->'metadata', (i.event->>'timestamp')::timestamptz
  FROM jsonb_array_elements(p_events) WITH ORDINALITY AS i(event, ord);

  version := p_expected + v_count;
  "position" := v_positions[v_count];
  duplicate := false;
END $$;
`;
}

/**
 * `explain_rejected_append`, called when an append's guard failed (or, in append_many, when one of
 * its ids is stored): raises why (purged, same id with other content, fenced, version conflict), or
 * returns the result of an idempotent re-send. Looks each id up with a LATERAL ... LIMIT 1 index
 * probe (since migration 2) rather than a join the planner may turn into a scan of the namespace's
 * events when statistics lag behind a growing table. It writes nothing and is internal: only
 * Granary's functions call it (as their owner); the application role may not.
 */
export function explainRejectedAppendSql(s: string): string {
  return `CREATE OR REPLACE FUNCTION ${s}.explain_rejected_append(
  p_namespace text, p_stream text, p_expected bigint, p_epoch bigint, p_events jsonb,
  OUT version bigint, OUT "position" bigint, OUT duplicate boolean
) LANGUAGE plpgsql AS $$
DECLARE
  v_count integer := jsonb_array_length(p_events);
  v_row ${s}.streams%ROWTYPE;
  v_stored integer;
  v_mismatch integer;
  v_missing integer;
  v_last_position bigint;
BEGIN
  SELECT * INTO v_row FROM ${s}.streams st WHERE st.namespace = p_namespace AND st.stream = p_stream;
  IF v_row.purged_at IS NOT NULL THEN
    RAISE EXCEPTION 'stream "%" was purged', p_stream USING ERRCODE = '${SqlState.StreamPurged}',
      DETAIL = json_build_object('purgedAt', ${s}.iso8601(v_row.purged_at), 'reason', v_row.purge_reason)::text;
  END IF;

  -- Which of the batch's ids are stored, and are they this very batch (an idempotent re-send)?
  SELECT count(*) FILTER (WHERE m.stored),
         min(m.ord) FILTER (WHERE m.stored AND NOT m.same),
         min(m.ord) FILTER (WHERE NOT m.stored),
         max(m.stored_position) FILTER (WHERE m.ord = v_count)
    INTO v_stored, v_mismatch, v_missing, v_last_position
  FROM (
    SELECT i.ord,
           e.id IS NOT NULL AS stored,
           e.position AS stored_position,
           coalesce(e.stream = p_stream AND e.version = p_expected + i.ord AND e.type = i.event->>'type'
             AND e.schema_version = (i.event->>'schemaVersion')::integer
             AND e.data = i.event->'data' AND e.metadata = i.event->'metadata', false) AS same
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS i(event, ord)
    LEFT JOIN LATERAL (SELECT * FROM ${s}.events e WHERE e.namespace = p_namespace AND e.id = i.event->>'id' LIMIT 1) e ON true
  ) m;
  IF v_stored > 0 THEN
    IF v_mismatch IS NOT NULL OR v_missing IS NOT NULL THEN
      RAISE EXCEPTION 'event id already stored with other content' USING ERRCODE = '${SqlState.IdempotencyConflict}',
        DETAIL = json_build_object('eventId', p_events->(coalesce(v_mismatch, v_missing)::integer - 1)->>'id')::text;
    END IF;
    version := p_expected + v_count;
    "position" := v_last_position;
    duplicate := true;
    RETURN;
  END IF;

  IF p_epoch IS NOT NULL AND coalesce(v_row.epoch, 0) > p_epoch THEN
    RAISE EXCEPTION 'fenced' USING ERRCODE = '${SqlState.FencedWrite}',
      DETAIL = json_build_object('currentEpoch', v_row.epoch)::text;
  END IF;
  -- Versions only grow, so the guard that failed still fails: the stream is not at p_expected.
  RAISE EXCEPTION 'version conflict' USING ERRCODE = '${SqlState.VersionConflict}',
    DETAIL = json_build_object('actualVersion', coalesce(v_row.version, 0))::text;
END $$;
`;
}
