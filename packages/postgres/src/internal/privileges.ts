/**
 * What the application role of a two-role setup may do in Granary's schema (see
 * grant-application-role.ts): read these tables, and execute these functions. Every function
 * listed except `iso8601` (a formatter the reads use) writes and runs as its owner (`SECURITY
 * DEFINER`, sql.ts), checking what the stores check: the role can change events, streams,
 * snapshots, tombstones, reminders, projections and keys only as the stores' own calls do.
 */

/** Tables the stores read with plain SELECTs. */
export const APPLICATION_READS = [
  "migrations",
  "events",
  "streams",
  "snapshots",
  "reminders",
  "reminder_partitions",
  "projection_checkpoints",
  "projection_documents",
  "subject_keys",
] as const;

/** Functions the stores call. Not listed (internal): explain_rejected_append and the trigger functions. */
export const APPLICATION_FUNCTIONS = [
  "iso8601",
  "append",
  "append_many",
  "purge",
  "save_snapshot",
  "purge_snapshots",
  "delete_snapshots",
  "upsert_reminder",
  "cancel_reminder",
  "cancel_reminders",
  "claim_reminder_partitions",
  "advance_reminder",
  "projection_commit",
  "drop_projection",
  "create_subject_key",
  "destroy_subject_key",
] as const;

/**
 * PostgreSQL lets every role (PUBLIC) execute a new function; Granary's writers run as their
 * owner, so only roles granted EXECUTE may call any of Granary's functions. Run after every
 * migration, in its transaction. (Tables and sequences grant PUBLIC nothing to begin with.)
 */
export function revokePublicSql(s: string): string {
  return `REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ${s} FROM PUBLIC;`;
}

/**
 * Makes `role` (a quoted identifier) the application role of schema `s`: first takes back
 * whatever it held in the schema, then grants exactly the reads and functions above. Idempotent.
 */
export function grantApplicationSql(s: string, role: string): string {
  const tables = APPLICATION_READS.map((t) => `${s}.${t}`).join(", ");
  const functions = APPLICATION_FUNCTIONS.map((f) => `${s}.${f}`).join(", ");
  return `REVOKE ALL ON ALL TABLES IN SCHEMA ${s} FROM ${role};
REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${s} FROM ${role};
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ${s} FROM ${role};
REVOKE CREATE ON SCHEMA ${s} FROM ${role};
GRANT USAGE ON SCHEMA ${s} TO ${role};
GRANT SELECT ON ${tables} TO ${role};
GRANT EXECUTE ON FUNCTION ${functions} TO ${role};`;
}
