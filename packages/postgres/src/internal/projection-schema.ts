import type pg from "pg";
import { LOCK_CLASS } from "./lock-keys.js";

/** Bumped when the projection DDL below changes (it is idempotent, so re-running is safe). */
const PROJECTION_SCHEMA_LEVEL = 1;

/**
 * Tables and the commit function of the read side. Idempotent DDL, kept apart from the event
 * store's numbered migrations: the read side may be added to a database at any time.
 *
 * `projection_commit` does a whole commit in one statement: lock (or create) the checkpoint row,
 * check the epoch (older → 'fenced') and the expected position (other → 'conflict'), write and
 * delete documents, move the checkpoint. A refused commit writes nothing.
 */
export function projectionSchemaSql(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.projection_checkpoints (
  namespace  text        NOT NULL,
  projection text        NOT NULL,
  position   bigint      NOT NULL,
  epoch      bigint      NOT NULL,
  ready      boolean     NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, projection)
);
CREATE TABLE IF NOT EXISTS ${s}.projection_documents (
  namespace  text  NOT NULL,
  projection text  NOT NULL,
  key        text  NOT NULL,
  document   jsonb NOT NULL,
  PRIMARY KEY (namespace, projection, key)
);
CREATE OR REPLACE FUNCTION ${s}.projection_commit(
  p_namespace text, p_projection text, p_expected bigint, p_position bigint, p_epoch bigint, p_ready boolean,
  p_keys text[], p_documents jsonb[], p_deleted text[]
) RETURNS TABLE (outcome text, current_position bigint, current_epoch bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  cp record;
BEGIN
  INSERT INTO ${s}.projection_checkpoints (namespace, projection, position, epoch, ready)
    VALUES (p_namespace, p_projection, 0, 0, false) ON CONFLICT DO NOTHING;
  SELECT c.position, c.epoch, c.ready INTO cp FROM ${s}.projection_checkpoints c
    WHERE c.namespace = p_namespace AND c.projection = p_projection FOR UPDATE;
  IF p_epoch < cp.epoch THEN
    RETURN QUERY SELECT 'fenced'::text, cp.position, cp.epoch;
    RETURN;
  END IF;
  IF cp.position <> p_expected THEN
    RETURN QUERY SELECT 'conflict'::text, cp.position, cp.epoch;
    RETURN;
  END IF;
  IF cardinality(p_keys) > 0 THEN
    INSERT INTO ${s}.projection_documents (namespace, projection, key, document)
      SELECT p_namespace, p_projection, k, d FROM unnest(p_keys, p_documents) AS u(k, d)
      ON CONFLICT (namespace, projection, key) DO UPDATE SET document = excluded.document;
  END IF;
  IF cardinality(p_deleted) > 0 THEN
    DELETE FROM ${s}.projection_documents
      WHERE namespace = p_namespace AND projection = p_projection AND key = ANY (p_deleted);
  END IF;
  UPDATE ${s}.projection_checkpoints SET position = p_position, epoch = p_epoch, ready = cp.ready OR p_ready,
      updated_at = now()
    WHERE namespace = p_namespace AND projection = p_projection;
  RETURN QUERY SELECT 'ok'::text, p_position, p_epoch;
END
$fn$;
`;
}

/**
 * Creates the read side's tables once per schema, under a transaction-level advisory lock so silos
 * starting together do not race on CREATE TABLE IF NOT EXISTS.
 */
export async function ensureProjectionSchema(pool: pg.Pool, s: string, lockKey: number): Promise<void> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_CLASS, lockKey]);
    const { rows } = await client.query<{ level: string | null }>(
      `SELECT obj_description(to_regclass('${s.replaceAll("'", "''")}.projection_checkpoints'), 'pg_class') AS level`,
    );
    if (rows[0]?.level !== `granary projections ${PROJECTION_SCHEMA_LEVEL}`) {
      await client.query(projectionSchemaSql(s));
      await client.query(
        `COMMENT ON TABLE ${s}.projection_checkpoints IS 'granary projections ${PROJECTION_SCHEMA_LEVEL}'`,
      );
    }
    await client.query("COMMIT");
  } catch (error) {
    failed = error as Error;
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release(failed);
  }
}
