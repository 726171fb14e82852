/**
 * Advisory lock keys, in the two-int4 key space (`pg_advisory_lock(class, key)`), which never
 * collides with applications using the single-bigint form. The class spells "grny".
 */
export const LOCK_CLASS = 0x67726e79;

/** Serializes migrations of one schema (transaction-level lock). */
export function migrationLockKey(schema: string): number {
  return fnv1a32(`migrate:${schema}`);
}

/** Serializes the assignment of transaction ids and feed positions of appends (see append-function.ts). */
export function feedLockKey(schema: string): number {
  return fnv1a32(`feed:${schema}`);
}

/** Class of the per-stream snapshot locks ("grns"). */
const SNAPSHOT_LOCK_CLASS = 0x67726e73;

/**
 * plpgsql: the transaction-level lock that orders a stream's snapshot saves with its purges, for a
 * function with parameters `p_namespace` and `p_stream`. Without it, a save and a purge running at
 * once in READ COMMITTED could each miss the other's uncommitted row and leave a snapshot of a
 * purged stream.
 */
export function streamSnapshotLockSql(): string {
  return `PERFORM pg_advisory_xact_lock(${SNAPSHOT_LOCK_CLASS}, hashtext(p_namespace || '|' || p_stream));`;
}

/** FNV-1a, as a signed 32-bit integer (PostgreSQL's int4). */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}
