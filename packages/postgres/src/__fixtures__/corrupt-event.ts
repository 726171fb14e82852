import type pg from "pg";

/**
 * Overwrites one stored event's data, around the store (triggers off, as a superuser restoring a
 * bad dump could), with data that is valid jsonb but not an event payload: the conformance suite's
 * `corrupt` hook. `admin` must be a superuser pool.
 */
export async function corruptEvent(admin: pg.Pool, stream: string, version: number, namespace: string): Promise<void> {
  const client = await admin.connect();
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL session_replication_role = replica");
    await client.query(
      `UPDATE granary.events SET data = '"not an object"'::jsonb WHERE namespace = $1 AND stream = $2 AND version = $3`,
      [namespace, stream, version],
    );
    await client.query("COMMIT");
  } finally {
    client.release();
  }
}
