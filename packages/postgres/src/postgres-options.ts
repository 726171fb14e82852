import { checkUpcastersOption, InvalidConfigurationError, type Upcasters } from "@granary/core";
import type pg from "pg";

/** pino-compatible: `logger.warn({ schema }, "message")`. */
export interface PostgresLogger {
  warn(obj: object, msg: string): void;
}

/** Options of every Granary PostgreSQL store. Give `connectionString` or `pool`, not both. */
export interface PostgresStoreOptions {
  /**
   * `postgres://user:password@host:5432/database`. Granary opens (and on `close()` ends) its own pool.
   * @default the `GRANARY_POSTGRES_URL` environment variable, when neither this nor `pool` is given
   */
  readonly connectionString?: string;
  /** A pg.Pool you own: Granary never ends it. It takes one connection for LISTEN while a store has subscribers. */
  readonly pool?: pg.Pool;
  /** Size of the pool Granary opens from `connectionString`. @default 10 (pg's own default) */
  readonly poolSize?: number;
  /**
   * PostgreSQL schema holding Granary's tables and functions; created and migrated at first use
   * (by a role that may; a least-privilege application role expects the owner to have run
   * grantApplicationRole). Lets several applications share a database. @default "granary"
   */
  readonly schema?: string;
  /** Tenant namespace: a store sees only its own streams, feed and snapshots. @default "default" */
  readonly namespace?: string;
  /** Where warnings go (a lost LISTEN connection, a database migrated by a newer Granary). @default process.emitWarning */
  readonly logger?: PostgresLogger;
}

export type PostgresSnapshotStoreOptions = PostgresStoreOptions;

export interface PostgresEventStoreOptions extends PostgresStoreOptions {
  /** Applied on read (read, readWithErrors, readAll, subscribe); stored events are never rewritten. */
  readonly upcasters?: Upcasters;
  /**
   * Group commit: appends arriving together (from any streams) are sent in one statement and
   * committed in ONE transaction, so one commit flush (fsync) serves them all; each append keeps
   * its own answer (a conflict fails only that append) and resolves after the commit. While a
   * batch is in flight the next one gathers. `false` sends every append in its own transaction.
   * @default true
   */
  readonly groupCommit?: boolean;
  /** Most appends in one group-commit batch (a batch also stops at about 4 MB of events). @default 500 */
  readonly maxBatch?: number;
}

export interface ResolvedPostgresOptions {
  /** Exactly one of connectionString and pool is set. */
  readonly connectionString: string | undefined;
  readonly pool: pg.Pool | undefined;
  readonly poolSize: number;
  readonly schema: string;
  readonly namespace: string;
  readonly upcasters: Upcasters | undefined;
  readonly logger: PostgresLogger;
  readonly groupCommit: boolean;
  readonly maxBatch: number;
}

export const DEFAULT_SCHEMA = "granary";
export const DEFAULT_NAMESPACE = "default";
export const DEFAULT_POOL_SIZE = 10;
export const DEFAULT_MAX_BATCH = 500;
/** Upper bound of maxBatch: a batch holds its stream rows locked and the feed back until it commits. */
export const MAX_MAX_BATCH = 10_000;
export const CONNECTION_STRING_ENV = "GRANARY_POSTGRES_URL";

/** Warnings through Node's own channel: visible on stderr, and `--no-warnings` silences them. */
export const emitWarningLogger: PostgresLogger = {
  warn(obj, msg) {
    process.emitWarning(`${msg} ${JSON.stringify(obj)}`, { code: "GRANARY_POSTGRES" });
  },
};

// An unquoted-safe identifier, short enough that `<schema>_feed` stays a valid channel name.
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,47}$/;

/**
 * Validates options and fills in defaults (options first, then `GRANARY_POSTGRES_URL`, then defaults).
 * @throws InvalidConfigurationError naming the option and what to change.
 */
export function resolvePostgresOptions(
  options: PostgresEventStoreOptions,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedPostgresOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidConfigurationError(
      "connectionString",
      'pass an options object, e.g. { connectionString: "postgres://user:password@localhost:5432/app" }',
    );
  }
  const { connectionString, pool } = checkConnection(options, env);
  if (options.poolSize !== undefined && pool !== undefined) {
    throw new InvalidConfigurationError(
      "poolSize",
      "applies only to the pool Granary opens; size the `pool` you pass instead",
    );
  }
  return {
    connectionString,
    pool,
    poolSize: checkPoolSize(options.poolSize),
    schema: checkSchema(options.schema),
    namespace: checkNamespace(options.namespace),
    upcasters: checkUpcastersOption(options.upcasters),
    logger: checkLogger(options.logger),
    groupCommit: checkGroupCommit(options.groupCommit),
    maxBatch: checkMaxBatch(options.maxBatch),
  };
}

function checkConnection(
  options: PostgresStoreOptions,
  env: Readonly<Record<string, string | undefined>>,
): { connectionString: string | undefined; pool: pg.Pool | undefined } {
  if (options.connectionString !== undefined && options.pool !== undefined) {
    throw new InvalidConfigurationError("pool", "give either `connectionString` or `pool`, not both");
  }
  if (options.pool !== undefined) {
    const pool = options.pool as unknown as { connect?: unknown; query?: unknown };
    if (
      typeof pool !== "object" ||
      pool === null ||
      typeof pool.connect !== "function" ||
      typeof pool.query !== "function"
    ) {
      throw new InvalidConfigurationError("pool", "must be a pg.Pool (`new pg.Pool({ connectionString })`)");
    }
    return { connectionString: undefined, pool: options.pool };
  }
  const fromEnv = env[CONNECTION_STRING_ENV];
  const value = options.connectionString ?? (fromEnv === "" ? undefined : fromEnv);
  const option = options.connectionString === undefined ? CONNECTION_STRING_ENV : "connectionString";
  if (value === undefined) {
    throw new InvalidConfigurationError(
      "connectionString",
      `PostgreSQL stores need a database: give \`connectionString\` (e.g. "postgres://user:password@localhost:5432/app"), a \`pool\`, or set ${CONNECTION_STRING_ENV}`,
    );
  }
  if (typeof value !== "string" || !/^postgres(ql)?:\/\//.test(value)) {
    throw new InvalidConfigurationError(
      option,
      `must be a postgres:// or postgresql:// URL such as "postgres://user:password@localhost:5432/app", got ${describe(value)}`,
    );
  }
  try {
    const url = new URL(value);
    // pg decodes these; a stray % would fail at the first query instead of here.
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    throw new InvalidConfigurationError(
      option,
      "is not a valid URL (percent-encode special characters in the user name and password)",
    );
  }
  return { connectionString: value, pool: undefined };
}

function checkPoolSize(value: unknown): number {
  if (value === undefined) return DEFAULT_POOL_SIZE;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 2) {
    throw new InvalidConfigurationError(
      "poolSize",
      `must be an integer >= 2 (one connection may be held for LISTEN), got ${describe(value)}`,
    );
  }
  return value;
}

function checkGroupCommit(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== "boolean") {
    throw new InvalidConfigurationError("groupCommit", `must be true or false, got ${describe(value)}`);
  }
  return value;
}

function checkMaxBatch(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_BATCH;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_MAX_BATCH) {
    throw new InvalidConfigurationError(
      "maxBatch",
      `must be an integer from 1 to ${MAX_MAX_BATCH} (appends per group-commit transaction), got ${describe(value)}`,
    );
  }
  return value;
}

function checkSchema(value: unknown): string {
  if (value === undefined) return DEFAULT_SCHEMA;
  if (typeof value !== "string" || !SCHEMA_PATTERN.test(value)) {
    throw new InvalidConfigurationError(
      "schema",
      `must be a lower-case SQL identifier of at most 48 characters (letters, digits, _; not starting with a digit), got ${describe(value)}`,
    );
  }
  return value;
}

function checkNamespace(value: unknown): string {
  if (value === undefined) return DEFAULT_NAMESPACE;
  if (typeof value !== "string" || value.length === 0 || value.length > 200) {
    throw new InvalidConfigurationError(
      "namespace",
      `must be a non-empty string of at most 200 characters, got ${describe(value)}`,
    );
  }
  return value;
}

function checkLogger(value: unknown): PostgresLogger {
  if (value === undefined) return emitWarningLogger;
  if (typeof value !== "object" || value === null || typeof (value as PostgresLogger).warn !== "function") {
    throw new InvalidConfigurationError("logger", "must have a warn(obj, msg) method (a pino logger works)");
  }
  return value as PostgresLogger;
}

/** The bad value as the error message shows it: strings quoted and cut, numbers and booleans as they are. */
function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return value === null ? "null" : typeof value;
}
