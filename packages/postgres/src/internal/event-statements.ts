import type { Tombstone } from "@granary/core";
import { eventColumns, streamEventColumns } from "./row-codec.js";

/** A tombstone as the `tombstone` and `purge` statements return it. */
export interface TombstoneRow {
  readonly purged_at: string;
  readonly purge_reason: string;
  readonly purged_by: string;
  readonly last_version: string;
}

export type EventStatements = ReturnType<typeof eventStatements>;

/**
 * The event store's SQL for quoted schema `s`: writes are calls of Granary's functions, reads are
 * plain SELECTs. The hot statements are named, so each connection parses and plans them once.
 */
export function eventStatements(s: string, schema: string) {
  const named = (name: string, text: string) => ({ name: `granary:${schema}:${name}`, text });
  return {
    append: named("append", `SELECT version, "position", duplicate FROM ${s}.append($1, $2, $3, $4, $5::jsonb)`),
    appendMany: named(
      "append-many",
      `SELECT version, "position", duplicate, rejected, detail
       FROM ${s}.append_many($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)`,
    ),
    readStream: {
      ...named(
        "read-stream",
        // The tombstone comes with the events, as a last row whose position is NULL (a purge deletes
        // the events in its transaction, so it comes alone): a read of an empty or finished stream
        // then needs no second round trip to learn whether it was purged.
        `(SELECT ${streamEventColumns(s)} FROM ${s}.events e
          WHERE e.namespace = $1 AND e.stream = $2 AND e.version >= $3 ORDER BY e.version LIMIT $4)
         UNION ALL
         SELECT NULL, NULL, NULL, st.purge_reason, NULL, NULL, NULL, ${s}.iso8601(st.purged_at)
         FROM ${s}.streams st WHERE st.namespace = $1 AND st.stream = $2 AND st.purged_at IS NOT NULL`,
      ),
      rowMode: "array" as const,
    },
    readAll: named(
      "read-all",
      `SELECT ${eventColumns(s)} FROM ${s}.events e
       WHERE e.namespace = $1 AND e.position > $2
         AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY e.position LIMIT $3`,
    ),
    readCorrelated: named(
      "read-correlated",
      `SELECT ${eventColumns(s)} FROM ${s}.events e
       WHERE e.namespace = $1 AND (e.metadata->>'correlationId') = $2 AND e.position > $3
         AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY e.position LIMIT $4`,
    ),
    latestVersion: named("latest-version", `SELECT version FROM ${s}.streams WHERE namespace = $1 AND stream = $2`),
    highestEpoch: named("highest-epoch", `SELECT epoch FROM ${s}.streams WHERE namespace = $1 AND stream = $2`),
    tombstone: `SELECT ${s}.iso8601(purged_at) AS purged_at, purge_reason, purged_by, version AS last_version
      FROM ${s}.streams WHERE namespace = $1 AND stream = $2 AND purged_at IS NOT NULL`,
    purge: `SELECT purged_at, purge_reason, purged_by, last_version FROM ${s}.purge($1, $2, $3, $4)`,
    storedIds: `SELECT id FROM ${s}.events WHERE namespace = $1 AND id = ANY($2::text[])`,
  };
}

export function toTombstone(stream: string, row: TombstoneRow): Tombstone {
  return {
    stream,
    purgedAt: row.purged_at,
    reason: row.purge_reason,
    requestedBy: row.purged_by,
    lastVersion: Number(row.last_version),
  };
}
