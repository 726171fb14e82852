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

/** Serializes creating the data key table of one schema (see postgres-key-store.ts). */
export function keyTableLockKey(schema: string): number {
  return fnv1a32(`keys:${schema}`);
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
