import { checkUpcastersOption, InvalidConfigurationError, type Upcasters } from "@granary/core";

/** How hard SQLite works to keep a commit across power loss (`PRAGMA synchronous`). */
export const SqliteSynchronous = {
  /** fsync the WAL on every commit: an acknowledged append survives power loss. */
  Full: "FULL",
  /** fsync only at checkpoints: survives a process crash, may lose the last commits on power loss. */
  Normal: "NORMAL",
} as const;
export type SqliteSynchronous = (typeof SqliteSynchronous)[keyof typeof SqliteSynchronous];

export const DEFAULT_SQLITE_PATH = "./.granary/granary.db";
export const DEFAULT_SQLITE_NAMESPACE = "default";
export const DEFAULT_SQLITE_SYNCHRONOUS: SqliteSynchronous = SqliteSynchronous.Full;
export const DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 5_000;

export interface SqliteStoreOptions {
  /**
   * Database file; its folder is created if missing. `":memory:"` gives a private in-memory
   * database (each store its own), for throwaway use only.
   * @default "./.granary/granary.db" (the standalone silo's data folder)
   */
  readonly path?: string;
  /** Tenant namespace: the store sees only its own streams, feed and snapshots. @default "default" */
  readonly namespace?: string;
  /**
   * `FULL` because an acknowledged event must survive power loss (Granary's first promise);
   * `NORMAL` trades the last commits on power loss for fewer fsyncs.
   * @default "FULL"
   */
  readonly synchronous?: SqliteSynchronous;
  /**
   * How long a write waits for another process holding the write lock before failing.
   * @default 5000 (ms), long enough to ride out another process's checkpoint
   */
  readonly busyTimeoutMs?: number;
}

export interface SqliteEventStoreOptions extends SqliteStoreOptions {
  /** Upcasters applied to every event read. @default none */
  readonly upcasters?: Upcasters;
}

export interface ResolvedSqliteOptions {
  readonly path: string;
  readonly namespace: string;
  readonly synchronous: SqliteSynchronous;
  readonly busyTimeoutMs: number;
  readonly upcasters: Upcasters | undefined;
}

/**
 * Fills in defaults and rejects invalid options with an InvalidConfigurationError naming the option.
 * @throws InvalidConfigurationError
 */
export function resolveSqliteOptions(options: SqliteEventStoreOptions = {}): ResolvedSqliteOptions {
  const { path = DEFAULT_SQLITE_PATH, namespace = DEFAULT_SQLITE_NAMESPACE } = options;
  const synchronous = options.synchronous ?? DEFAULT_SQLITE_SYNCHRONOUS;
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_SQLITE_BUSY_TIMEOUT_MS;
  if (typeof path !== "string" || path.trim().length === 0) {
    throw new InvalidConfigurationError("path", `expected a database file path, got ${JSON.stringify(path)}`);
  }
  if (typeof namespace !== "string" || namespace.length === 0) {
    throw new InvalidConfigurationError("namespace", `expected a non-empty string, got ${JSON.stringify(namespace)}`);
  }
  if (!Object.values(SqliteSynchronous).includes(synchronous)) {
    throw new InvalidConfigurationError(
      "synchronous",
      `expected "FULL" or "NORMAL", got ${JSON.stringify(synchronous)} (FULL survives power loss, NORMAL only a crash)`,
    );
  }
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new InvalidConfigurationError(
      "busyTimeoutMs",
      `expected an integer >= 0 (milliseconds), got ${busyTimeoutMs}`,
    );
  }
  return { path, namespace, synchronous, busyTimeoutMs, upcasters: checkUpcastersOption(options.upcasters) };
}
