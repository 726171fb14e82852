import {
  type ActorClass,
  type Clock,
  type Directory,
  type ErrorClass,
  type EventStore,
  InvalidConfigurationError,
  type KeyStore,
  type ProjectionClass,
  type ProjectionStore,
  type ReminderStore,
  type SnapshotStore,
  systemClock,
} from "@granary/core";
import type { Logger } from "pino";
import type { SiloInspectorOption } from "../admin/silo-inspector.js";
import type { AdmissionOptions } from "../admission/admission-options.js";
import type { ClusterOptions } from "../cluster/cluster-options.js";
import { DEFAULT_CALL_TIMEOUT_MS } from "../options/defaults.js";
import { positiveInt } from "../options/option-parsing.js";
import {
  type ReadSideSettings,
  type ReadSideTuning,
  resolveReadSideSettings,
} from "../projections/read-side-settings.js";
import {
  type ReminderServiceOptions,
  type ResolvedReminderServiceOptions,
  resolveReminderServiceOptions,
} from "../reminders/reminder-service-options.js";

/**
 * Options of {@link Silo.start}. Every field except `actors` is optional; each falls back to a
 * `GRANARY_*` environment variable, then to its default.
 */
export interface SiloOptions extends ClusterOptions, AdmissionOptions {
  /** The actor classes this silo can host. */
  readonly actors: readonly ActorClass[];
  /**
   * Where events go. @default SQLite at `${dataDir}/granary.db` (WAL, synchronous=FULL) in standalone
   * mode; the Redis event store on `redis` in cluster mode.
   */
  readonly store?: EventStore;
  /** Where snapshots go. @default the same database as the default store */
  readonly snapshots?: SnapshotStore;
  /**
   * Where reminders are kept. @default beside the events: SQLite in the same file (embedded
   * default), Redis in cluster mode; otherwise in memory (as durable as a memory event store).
   */
  readonly reminders?: ReminderStore;
  /** Tuning of the reminder service (poll interval, batch size, ...). */
  readonly reminderService?: ReminderServiceOptions;
  /** Folder of the embedded default store. @default "./.granary" (env GRANARY_DATA_DIR) */
  readonly dataDir?: string;
  /** Directory of actor owners. @default in-process (standalone) */
  readonly directory?: Directory;
  /** Deactivate an activation after this long without calls. @default 900_000 (15 min, as Orleans) (env GRANARY_IDLE_TIMEOUT_MS) */
  readonly idleTimeoutMs?: number;
  /** How often idle activations are looked for. @default min(60_000, idleTimeoutMs / 2) */
  readonly collectionIntervalMs?: number;
  /** Default per-call timeout. @default 30_000 (env GRANARY_CALL_TIMEOUT_MS) */
  readonly callTimeoutMs?: number;
  /** Deep-freeze actor state after each event to catch mutation. @default true unless NODE_ENV=production */
  readonly freezeState?: boolean;
  /** Stable id of this silo in logs and the directory. @default "silo-" + a ULID */
  readonly siloId?: string;
  /** A pino logger. @default pino at GRANARY_LOG_LEVEL (default "info") */
  readonly logger?: Logger;
  /** Domain error classes, revived with their prototype when they cross the wire. */
  readonly errors?: readonly ErrorClass[];
  /**
   * Where the data keys of personal fields live (crypto-shredding; see `PersonalData`).
   * @default chosen beside the event store: SQLite in `${dataDir}/keys.db` for the embedded store,
   * Redis in cluster mode on Redis, memory for a MemoryEventStore; required with any other `store`
   * when an actor declares personalData (a key store that loses its keys loses the data)
   */
  readonly keyStore?: KeyStore;
  /**
   * How long a silo uses a data key before reading it from the key store again; bounds how long a
   * silo that missed a forget broadcast keeps encrypting or decrypting with a destroyed key.
   * @default 30_000
   */
  readonly keyCacheTtlMs?: number;
  /** Time source; tests pass a ManualClock. @default the system clock */
  readonly clock?: Clock;
  /**
   * Called when the silo fences itself (its membership lease lapsed): it has stopped serving. A
   * process should exit so its supervisor restarts it with a fresh identity.
   * @default log only
   */
  readonly onFenced?: (reason: string) => void;
  /**
   * On SIGTERM or SIGINT, drain (`stop()`: accepted calls finish, snapshots, the silo leaves the
   * cluster) and exit, so a bare `Silo.start` script shuts down cleanly under a supervisor. When the
   * application listens for the signal itself, the silo only drains and the application exits.
   * One listener per signal serves every silo of the process and is removed when the last stops.
   * @default true (TestCluster and ActorSpec turn it off)
   */
  readonly handleSignals?: boolean;
  /**
   * Serve the browser inspector (silos, activations, event timeline with time travel): `true` or
   * `{ port, host, purgeKey }`. Bound to 127.0.0.1 unless `host` says otherwise; read-only unless
   * `purgeKey` (the cluster key) is given. @default off (env GRANARY_INSPECTOR_PORT turns it on)
   */
  readonly inspector?: SiloInspectorOption;
  /** Projection classes (DocumentProjection, HandlerProjection) this silo may run; each runs on one silo of the cluster. @default none */
  readonly projections?: readonly ProjectionClass[];
  /** Where projection documents and checkpoints go. @default the store beside the event store (same SQLite file, PostgreSQL database or Redis) */
  readonly projectionStore?: ProjectionStore;
  /** Tuning of projections (batch size, document cache, ownership checks). */
  readonly readSide?: ReadSideTuning;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 15 * 60_000;
export { DEFAULT_CALL_TIMEOUT_MS };
export const DEFAULT_DATA_DIR = "./.granary";
export const MAX_COLLECTION_INTERVAL_MS = 60_000;

export interface ResolvedSiloOptions {
  readonly actors: readonly ActorClass[];
  readonly store: EventStore | undefined;
  readonly snapshots: SnapshotStore | undefined;
  readonly reminders: ReminderStore | undefined;
  readonly reminderService: ResolvedReminderServiceOptions;
  readonly dataDir: string;
  readonly directory: Directory | undefined;
  readonly idleTimeoutMs: number;
  readonly collectionIntervalMs: number;
  readonly callTimeoutMs: number;
  readonly freezeState: boolean;
  readonly siloId: string | undefined;
  readonly logger: Logger | undefined;
  readonly logLevel: string;
  readonly errors: readonly ErrorClass[];
  readonly clock: Clock;
  readonly keyStore: KeyStore | undefined;
  readonly keyCacheTtlMs: number | undefined;
  readonly projections: readonly ProjectionClass[];
  readonly projectionStore: ProjectionStore | undefined;
  readonly readSide: ReadSideSettings;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Options first, then environment, then defaults; invalid values fail with the option's name. */
export function resolveSiloOptions(options: SiloOptions, env: Env = process.env): ResolvedSiloOptions {
  if (!options || !Array.isArray(options.actors) || options.actors.length === 0) {
    throw new InvalidConfigurationError("actors", "give the actor classes this silo hosts, e.g. { actors: [Account] }");
  }
  const idleTimeoutMs = positiveInt(
    "idleTimeoutMs",
    options.idleTimeoutMs,
    env.GRANARY_IDLE_TIMEOUT_MS,
    DEFAULT_IDLE_TIMEOUT_MS,
  );
  const collectionIntervalMs = positiveInt(
    "collectionIntervalMs",
    options.collectionIntervalMs,
    undefined,
    Math.max(1, Math.min(MAX_COLLECTION_INTERVAL_MS, Math.floor(idleTimeoutMs / 2))),
  );
  const callTimeoutMs = positiveInt(
    "callTimeoutMs",
    options.callTimeoutMs,
    env.GRANARY_CALL_TIMEOUT_MS,
    DEFAULT_CALL_TIMEOUT_MS,
  );
  const dataDir = options.dataDir ?? env.GRANARY_DATA_DIR ?? DEFAULT_DATA_DIR;
  if (typeof dataDir !== "string" || dataDir.trim() === "") {
    throw new InvalidConfigurationError("dataDir", "must be a folder path (or unset for ./.granary)");
  }
  if (options.snapshots && !options.store) {
    throw new InvalidConfigurationError(
      "snapshots",
      "a snapshot store was given without `store`; give both or neither",
    );
  }
  const logLevel = env.GRANARY_LOG_LEVEL ?? "info";
  const levels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
  if (!levels.includes(logLevel)) {
    throw new InvalidConfigurationError("GRANARY_LOG_LEVEL", `must be one of ${levels.join(", ")}, got "${logLevel}"`);
  }
  return {
    actors: options.actors,
    store: options.store,
    snapshots: options.snapshots,
    reminders: options.reminders,
    reminderService: resolveReminderServiceOptions(options.reminderService),
    dataDir,
    directory: options.directory,
    idleTimeoutMs,
    collectionIntervalMs,
    callTimeoutMs,
    freezeState: options.freezeState ?? env.NODE_ENV !== "production",
    siloId: options.siloId,
    logger: options.logger,
    logLevel,
    errors: options.errors ?? [],
    keyStore: resolveKeyStore(options.keyStore),
    keyCacheTtlMs:
      options.keyCacheTtlMs === undefined
        ? undefined
        : positiveInt("keyCacheTtlMs", options.keyCacheTtlMs, undefined, 1),
    clock: options.clock ?? systemClock,
    projections: options.projections ?? [],
    projectionStore: options.projectionStore,
    readSide: resolveReadSideSettings(options.readSide, env.NODE_ENV !== "production"),
  };
}

function resolveKeyStore(keyStore: KeyStore | undefined): KeyStore | undefined {
  if (keyStore === undefined) return undefined;
  const candidate = keyStore as Partial<KeyStore> | null;
  if (typeof candidate?.getOrCreate !== "function" || typeof candidate.destroy !== "function") {
    throw new InvalidConfigurationError(
      "keyStore",
      "expected a KeyStore (SqliteKeyStore, PostgresKeyStore, RedisKeyStore or MemoryKeyStore)",
    );
  }
  return keyStore;
}
