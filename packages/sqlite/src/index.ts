/**
 * @granary/sqlite — the embedded, zero-config store: events, snapshots and the global feed in one
 * SQLite file (WAL, `synchronous=FULL`), append-only enforced by triggers, appends group-committed.
 *
 * @example
 * import { SqliteEventStore, SqliteSnapshotStore } from "@granary/sqlite";
 *
 * const store = new SqliteEventStore({ path: "./.granary/granary.db" });
 * const snapshots = new SqliteSnapshotStore({ path: "./.granary/granary.db" });
 * await store.append("Account/acc-1", 0, [event]); // resolves once durable
 * const history = await store.read("Account/acc-1");
 * await Promise.all([store.close(), snapshots.close()]);
 */
export type { GroupCommitStats } from "./group-commit-queue.js";
export { SqliteEventStore } from "./sqlite-event-store.js";
export { DEFAULT_SQLITE_KEY_PATH, SqliteKeyStore } from "./sqlite-key-store.js";
export {
  DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
  DEFAULT_SQLITE_NAMESPACE,
  DEFAULT_SQLITE_PATH,
  DEFAULT_SQLITE_SYNCHRONOUS,
  type ResolvedSqliteOptions,
  resolveSqliteOptions,
  type SqliteEventStoreOptions,
  type SqliteStoreOptions,
  SqliteSynchronous,
} from "./sqlite-options.js";
export { SqliteProjectionStore, type SqliteProjectionStoreOptions } from "./sqlite-projection-store.js";
export { SqliteReminderStore } from "./sqlite-reminder-store.js";
export { SqliteSnapshotStore } from "./sqlite-snapshot-store.js";
