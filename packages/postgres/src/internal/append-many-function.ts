import { feedLockKey, LOCK_CLASS } from "./lock-keys.js";
import { SqlState } from "./schema-sql.js";
import { DEFINER } from "./sql.js";
import { advanceStreamSql, indent, streamAcceptsSql, streamGuardSql } from "./stream-guard-sql.js";

/**
 * `append_many(...)`: group commit. Many appends of one namespace, to any streams, in one
 * statement — hence one transaction and one commit flush — with the answer of every append as if
 * it had run alone through `append` (append-function.ts).
 *
 * ## Arguments (column-wise, so the common case is a handful of set-based statements)
 * Per append, in batch order: `p_streams`, `p_expected`, `p_epochs` (NULL: no fencing),
 * `p_counts` (its number of events) and `p_sequential` (see below). Per event, all appends' events
 * one after the other in batch order: `p_events` (a jsonb array of the objects `append` takes),
 * `p_owners` (the 1-based append it belongs to), `p_versions` and `p_ids`.
 *
 * The per-event arrays repeat what `p_events`, `p_counts` and `p_expected` already say, so the
 * set-based statements need not compute them; the function checks that they agree before it does
 * anything (SQLSTATE GR007 otherwise), since it runs as its owner (`SECURITY DEFINER`) and is the
 * application role's only way to write events: a caller cannot store events under other versions
 * or ids than its stream's guard approved.
 *
 * Returns one row per append, in batch order: `version`, `position`, `duplicate` for an accepted
 * append or an idempotent re-send, or else the SQLSTATE `append` would have raised (`rejected`:
 * version conflict, fenced, same id with other content, purged) and its JSON `detail`. A rejected
 * append writes nothing; the others still commit.
 *
 * ## The feed
 * The transaction takes its xid and the positions of ALL events of the batch in one pass of the
 * critical section `append` uses (same lock, same sequence), before its first write. Position
 * order therefore still equals xid order across transactions, batches or not, and the proof in
 * append-function.ts holds unchanged. Positions of rejected appends become gaps.
 *
 * ## Steps, without a subtransaction per append
 * A BEGIN ... EXCEPTION block per append would give each its own subtransaction id; beyond 64 in
 * one transaction they overflow PostgreSQL's per-backend cache and every snapshot in the cluster
 * checks pg_subtrans. So every rejection is found before the append writes anything:
 * 1. Appends with an id that is already stored (a re-send, or an id reused) are set aside.
 * 2. One UPDATE of all other stream rows whose guard holds (version = expected, no tombstone,
 *    epoch), the very guard of `append` (stream-guard-sql.ts); one INSERT of the rows of new
 *    streams for the first appends (expected 0), where no row exists.
 * 3. One INSERT of the events of every accepted append.
 * 4. The others, one by one in batch order: appends set aside or refused by the guard are
 *    explained by explain_rejected_append, whose RAISE an EXCEPTION block turns into a row (it
 *    writes nothing, so that subtransaction takes no id). Appends marked `p_sequential` — the
 *    client marks every append whose stream or an event id also occurs in another append of the
 *    batch — run the whole of steps 1-3 each, in batch order, so they see each other: the second
 *    append to a stream checks its expected version against the first's result.
 * The events INSERT can still fail on what the checks cannot see (an id a concurrent transaction
 * is inserting, a timestamp PostgreSQL cannot read); that rolls the whole batch back, and the
 * client then runs its appends one by one through `append` to give each its own answer.
 *
 * The client sorts a batch by stream, so concurrent batches tend to lock stream rows in the same
 * order; should two batches still deadlock (only possible when both write the same streams), the
 * one PostgreSQL aborts is rolled back whole and its appends run one by one, as above.
 */
export function appendManyFunctionSql(s: string): string {
  const lock = `${LOCK_CLASS}, ${feedLockKey(s)}`;
  const rejections = [
    SqlState.VersionConflict,
    SqlState.FencedWrite,
    SqlState.IdempotencyConflict,
    SqlState.StreamPurged,
  ]
    .map((code) => `SQLSTATE '${code}'`)
    .join(" OR ");
  return `
CREATE OR REPLACE FUNCTION ${s}.append_many(
  p_namespace text, p_streams text[], p_expected bigint[], p_epochs bigint[], p_counts integer[],
  p_sequential boolean[], p_events jsonb, p_owners integer[], p_versions bigint[], p_ids text[]
) RETURNS TABLE (version bigint, "position" bigint, duplicate boolean, rejected text, detail text)
LANGUAGE plpgsql ${DEFINER} AS $$
DECLARE
  v_appends integer := cardinality(p_streams);
  v_xid xid8;
  v_positions bigint[];
  -- Index in p_events of each append's last event.
  v_last integer[];
  v_set_aside integer[];
  v_accepted integer[];
  v_done boolean[];
  v_version bigint[];
  v_position bigint[];
  v_duplicate boolean[];
  v_rejected text[];
  v_detail text[];
  v_i integer;
  v_stream text;
  v_expected bigint;
  v_epoch bigint;
  v_count integer;
  v_first integer;
  v_events jsonb;
  v_ok boolean;
  v_r_version bigint;
  v_r_position bigint;
  v_r_duplicate boolean;
  v_r_rejected text;
  v_r_detail text;
BEGIN
  IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
    RAISE EXCEPTION 'granary append must be the first write of its transaction'
      USING ERRCODE = '${SqlState.NotFirstWrite}',
            HINT = 'The feed orders events by the transaction id taken inside append; run append first or on its own.';
  END IF;

  -- The per-append arrays have one entry per append, every append has events, and the per-event
  -- arrays say exactly what p_events, p_counts and p_expected say.
  IF coalesce(v_appends, 0) = 0
     OR v_appends IS DISTINCT FROM cardinality(p_expected) OR v_appends IS DISTINCT FROM cardinality(p_epochs)
     OR v_appends IS DISTINCT FROM cardinality(p_counts) OR v_appends IS DISTINCT FROM cardinality(p_sequential)
     OR cardinality(p_ids) IS DISTINCT FROM jsonb_array_length(p_events)
     OR cardinality(p_ids) IS DISTINCT FROM cardinality(p_owners)
     OR cardinality(p_ids) IS DISTINCT FROM cardinality(p_versions)
     OR EXISTS (SELECT 1 FROM unnest(p_counts) c(n) WHERE c.n IS NULL OR c.n < 1)
     OR (SELECT sum(c.n) FROM unnest(p_counts) c(n)) IS DISTINCT FROM cardinality(p_ids)
     OR EXISTS (
       SELECT 1 FROM (
         SELECT a.ord AS owner, p_expected[a.ord] + k AS version, row_number() OVER (ORDER BY a.ord, k)::integer AS n
         FROM unnest(p_counts) WITH ORDINALITY AS a(count, ord), generate_series(1, a.count) k
       ) x
       WHERE p_owners[x.n] IS DISTINCT FROM x.owner OR p_versions[x.n] IS DISTINCT FROM x.version
          OR p_ids[x.n] IS DISTINCT FROM p_events->(x.n - 1)->>'id') THEN
    RAISE EXCEPTION 'granary append_many: its arrays do not describe one batch of appends'
      USING ERRCODE = '${SqlState.InvalidCall}';
  END IF;

  -- Feed critical section, once for the whole batch: the xid and every position.
  PERFORM pg_advisory_lock(${lock});
  v_xid := pg_current_xact_id();
  v_positions := ARRAY(SELECT nextval('${s}.events_position_seq') FROM generate_series(1, cardinality(p_ids)));
  PERFORM pg_advisory_unlock(${lock});

  v_last := ARRAY(SELECT sum(c.n) OVER (ORDER BY c.ord) FROM unnest(p_counts) WITH ORDINALITY AS c(n, ord) ORDER BY c.ord);

  -- 1. Appends with an id already stored. One unique-index probe per id, forced by LATERAL ...
  --    LIMIT (a join may become a scan of the namespace's events when statistics lag).
  v_set_aside := ARRAY(
    SELECT DISTINCT p_owners[i.n] FROM unnest(p_ids) WITH ORDINALITY AS i(id, n),
      LATERAL (SELECT 1 FROM ${s}.events e WHERE e.namespace = p_namespace AND e.id = i.id LIMIT 1) stored
    WHERE NOT p_sequential[p_owners[i.n]]);

  -- 2. The guard of every other append, as in append, row-locking its stream until commit.
  WITH updated AS (
    UPDATE ${s}.streams st SET ${advanceStreamSql({ expected: "b.expected", count: "b.n", epoch: "b.epoch" })}
      FROM unnest(p_streams, p_expected, p_epochs, p_counts) WITH ORDINALITY AS b(stream, expected, epoch, n, ord)
      WHERE b.expected > 0 AND NOT p_sequential[b.ord] AND b.ord <> ALL (v_set_aside)
        AND st.namespace = p_namespace AND st.stream = b.stream
        AND ${streamAcceptsSql({ expected: "b.expected", epoch: "b.epoch" })}
      RETURNING b.ord
  ), inserted AS (
    INSERT INTO ${s}.streams (namespace, stream, version, epoch)
      SELECT p_namespace, b.stream, b.n, coalesce(b.epoch, 0)
      FROM unnest(p_streams, p_expected, p_epochs, p_counts) WITH ORDINALITY AS b(stream, expected, epoch, n, ord)
      WHERE b.expected = 0 AND NOT p_sequential[b.ord] AND b.ord <> ALL (v_set_aside)
    ON CONFLICT (namespace, stream) DO NOTHING
    RETURNING stream
  )
  SELECT ARRAY(SELECT u.ord::integer FROM updated u
               UNION ALL
               -- Streams outside p_sequential occur once in the batch: the stream names its append.
               SELECT b.ord::integer FROM inserted i
                 JOIN unnest(p_streams, p_expected) WITH ORDINALITY AS b(stream, expected, ord)
                   ON b.stream = i.stream AND b.expected = 0 AND NOT p_sequential[b.ord])
    INTO v_accepted;

  -- 3. The events of every accepted append, at their positions in the batch.
  v_done := array_fill(false, ARRAY[v_appends]);
  FOREACH v_i IN ARRAY v_accepted LOOP
    v_done[v_i] := true;
  END LOOP;
  INSERT INTO ${s}.events AS e
    (position, transaction_id, namespace, stream, version, id, type, schema_version, data, metadata, "timestamp")
  OVERRIDING SYSTEM VALUE
  SELECT v_positions[i.n], v_xid, p_namespace, p_streams[p_owners[i.n]], p_versions[i.n], p_ids[i.n],
         i.event->>'type', (i.event->>'schemaVersion')::integer, i.event->'data', i.event->'metadata',
         (i.event->>'timestamp')::timestamptz
  FROM jsonb_array_elements(p_events) WITH ORDINALITY AS i(event, n)
  WHERE v_done[p_owners[i.n]];

  -- 4. The rest, one by one in batch order.
  v_version := array_fill(NULL::bigint, ARRAY[v_appends]);
  v_position := array_fill(NULL::bigint, ARRAY[v_appends]);
  v_duplicate := array_fill(NULL::boolean, ARRAY[v_appends]);
  v_rejected := array_fill(NULL::text, ARRAY[v_appends]);
  v_detail := array_fill(NULL::text, ARRAY[v_appends]);
  FOR v_i IN 1 .. v_appends LOOP
    CONTINUE WHEN v_done[v_i];
    v_stream := p_streams[v_i];
    v_expected := p_expected[v_i];
    v_epoch := p_epochs[v_i];
    v_count := p_counts[v_i];
    v_first := v_last[v_i] - v_count + 1;
    v_ok := false;
    IF p_sequential[v_i] THEN
      IF NOT EXISTS (SELECT 1 FROM generate_series(v_first, v_last[v_i]) n,
                       LATERAL (SELECT 1 FROM ${s}.events e
                                WHERE e.namespace = p_namespace AND e.id = p_ids[n] LIMIT 1) stored) THEN
        ${indent(streamGuardSql(s, { namespace: "p_namespace", stream: "v_stream", expected: "v_expected", count: "v_count", epoch: "v_epoch" }), 8)}
        v_ok := FOUND;
      END IF;
      IF v_ok THEN
        INSERT INTO ${s}.events AS e
          (position, transaction_id, namespace, stream, version, id, type, schema_version, data, metadata, "timestamp")
        OVERRIDING SYSTEM VALUE
        SELECT v_positions[n], v_xid, p_namespace, v_stream, p_versions[n], p_ids[n],
               p_events->(n - 1)->>'type', (p_events->(n - 1)->>'schemaVersion')::integer, p_events->(n - 1)->'data',
               p_events->(n - 1)->'metadata', (p_events->(n - 1)->>'timestamp')::timestamptz
        FROM generate_series(v_first, v_last[v_i]) n;
        v_done[v_i] := true;
      END IF;
    END IF;
    CONTINUE WHEN v_ok;
    v_r_version := NULL;
    v_r_position := NULL;
    v_r_duplicate := NULL;
    v_r_rejected := NULL;
    v_r_detail := NULL;
    v_events := (SELECT jsonb_agg(p_events->(n - 1) ORDER BY n) FROM generate_series(v_first, v_last[v_i]) n);
    BEGIN
      SELECT r.version, r."position", r.duplicate INTO v_r_version, v_r_position, v_r_duplicate
        FROM ${s}.explain_rejected_append(p_namespace, v_stream, v_expected, v_epoch, v_events) r;
    EXCEPTION WHEN ${rejections} THEN
      GET STACKED DIAGNOSTICS v_r_rejected = RETURNED_SQLSTATE, v_r_detail = PG_EXCEPTION_DETAIL;
    END;
    v_version[v_i] := v_r_version;
    v_position[v_i] := v_r_position;
    v_duplicate[v_i] := v_r_duplicate;
    v_rejected[v_i] := v_r_rejected;
    v_detail[v_i] := v_r_detail;
  END LOOP;

  RETURN QUERY
    SELECT CASE WHEN v_done[g] THEN p_expected[g] + p_counts[g] ELSE v_version[g] END,
           CASE WHEN v_done[g] THEN v_positions[v_last[g]] ELSE v_position[g] END,
           CASE WHEN v_done[g] THEN false ELSE v_duplicate[g] END,
           v_rejected[g], v_detail[g]
    FROM generate_series(1, v_appends) g ORDER BY g;
END $$;
`;
}
