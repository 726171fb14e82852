import { DEFINER } from "./sql.js";

/**
 * Tables of the read side. Until migration 5 a projection store created them itself at first use,
 * so they may exist already: IF NOT EXISTS.
 */
export function projectionTablesSql(s: string): string {
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
`;
}

/**
 * The projection store's writes, running as their owner.
 *
 * `projection_commit` does a whole commit in one statement: lock (or create) the checkpoint row,
 * check the epoch (older → 'fenced') and the expected position (other → 'conflict'), write and
 * delete documents, move the checkpoint. A refused commit writes nothing. `drop_projection`
 * deletes a projection's documents and checkpoint together.
 */
export function projectionFunctionsSql(s: string): string {
  return `
CREATE OR REPLACE FUNCTION ${s}.projection_commit(
  p_namespace text, p_projection text, p_expected bigint, p_position bigint, p_epoch bigint, p_ready boolean,
  p_keys text[], p_documents jsonb[], p_deleted text[]
) RETURNS TABLE (outcome text, current_position bigint, current_epoch bigint)
LANGUAGE plpgsql ${DEFINER} AS $fn$
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

CREATE OR REPLACE FUNCTION ${s}.drop_projection(p_namespace text, p_projection text)
RETURNS void
LANGUAGE sql ${DEFINER} AS $$
  DELETE FROM ${s}.projection_documents d WHERE d.namespace = p_namespace AND d.projection = p_projection;
  DELETE FROM ${s}.projection_checkpoints c WHERE c.namespace = p_namespace AND c.projection = p_projection;
$$;
`;
}
