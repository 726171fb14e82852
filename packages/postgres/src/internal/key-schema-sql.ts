import { DEFINER } from "./sql.js";

/**
 * The data key table of crypto-shredding. Until migration 5 a key store created it itself at first
 * use, so it may exist already: IF NOT EXISTS. A destroyed key is NULL with the time it was
 * destroyed, so the destroy is remembered and permanent.
 */
export function keyTableSql(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.subject_keys (
  namespace    text NOT NULL,
  subject      text NOT NULL,
  key          bytea,
  created_at   timestamptz,
  destroyed_at timestamptz,
  PRIMARY KEY (namespace, subject),
  CHECK ((key IS NULL) = (destroyed_at IS NOT NULL))
);
`;
}

/**
 * The key store's writes, running as their owner. `create_subject_key` inserts a key unless the
 * subject has one (or had one), returning the row only when it inserted; `destroy_subject_key`
 * sets the key to NULL and records when (the first time), also for a subject that never had one.
 * Both return key, created_at and destroyed_at (ISO 8601).
 */
export function keyFunctionsSql(s: string): string {
  const columns = `k.key, ${s}.iso8601(k.created_at), ${s}.iso8601(k.destroyed_at)`;
  return `
CREATE OR REPLACE FUNCTION ${s}.create_subject_key(p_namespace text, p_subject text, p_key bytea)
RETURNS TABLE (key bytea, created_at text, destroyed_at text)
LANGUAGE sql ${DEFINER} AS $$
  INSERT INTO ${s}.subject_keys AS k (namespace, subject, key, created_at) VALUES (p_namespace, p_subject, p_key, now())
  ON CONFLICT (namespace, subject) DO NOTHING
  RETURNING ${columns};
$$;

CREATE OR REPLACE FUNCTION ${s}.destroy_subject_key(p_namespace text, p_subject text)
RETURNS TABLE (key bytea, created_at text, destroyed_at text)
LANGUAGE sql ${DEFINER} AS $$
  INSERT INTO ${s}.subject_keys AS k (namespace, subject, destroyed_at) VALUES (p_namespace, p_subject, now())
  ON CONFLICT (namespace, subject) DO UPDATE
    SET key = NULL, destroyed_at = COALESCE(k.destroyed_at, EXCLUDED.destroyed_at)
  RETURNING ${columns};
$$;
`;
}
