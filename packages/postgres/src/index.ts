/**
 * @granary/postgres — the durable production event and snapshot store. Events are rows with jsonb
 * data and metadata (query history with SQL); the database itself rejects UPDATE and DELETE of
 * events, except an audited purge; the global feed never skips an event that commits late; tables
 * are created and migrated at first use, safely when several silos start at once. For least
 * privilege, an owner role migrates and `grantApplicationRole` lets the silos' role only read and
 * execute Granary's functions, through which every write goes.
 *
 * @example
 * import { PostgresEventStore, PostgresSnapshotStore } from "@granary/postgres";
 *
 * const connectionString = "postgres://granary:secret@db:5432/app";
 * const events = new PostgresEventStore({ connectionString, namespace: "tenant-a" });
 * const snapshots = new PostgresSnapshotStore({ connectionString, namespace: "tenant-a" });
 * const subscription = events.subscribe({ fromPosition: 0, onEvent: (e) => project(e) });
 */
export { SchemaNotMigratedError } from "./errors.js";
export { type GrantApplicationRoleOptions, grantApplicationRole } from "./grant-application-role.js";
export type { GroupCommitStats } from "./internal/group-commit.js";
export { PostgresEventStore } from "./postgres-event-store.js";
export { PostgresKeyStore, type PostgresKeyStoreOptions } from "./postgres-key-store.js";
export {
  CONNECTION_STRING_ENV,
  DEFAULT_MAX_BATCH,
  DEFAULT_NAMESPACE,
  DEFAULT_POOL_SIZE,
  DEFAULT_SCHEMA,
  emitWarningLogger,
  type PostgresEventStoreOptions,
  type PostgresLogger,
  type PostgresSnapshotStoreOptions,
  type PostgresStoreOptions,
  type ResolvedPostgresOptions,
  resolvePostgresOptions,
} from "./postgres-options.js";
export { PostgresProjectionStore } from "./postgres-projection-store.js";
export { PostgresReminderStore } from "./postgres-reminder-store.js";
export { PostgresSnapshotStore } from "./postgres-snapshot-store.js";
