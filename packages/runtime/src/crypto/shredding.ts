import { join } from "node:path";
import {
  type ActorClass,
  InvalidConfigurationError,
  type KeyStore,
  MemoryEventStore,
  MemoryKeyStore,
} from "@granary/core";
import type { Logger } from "pino";
import type { Stores } from "../silo/default-stores.js";
import { EncryptingEventStore } from "./encrypting-event-store.js";
import { EncryptingSnapshotStore } from "./encrypting-snapshot-store.js";
import { KeyCache } from "./key-cache.js";
import { PersonalDataRules } from "./personal-data-rules.js";
import { StreamSubjects } from "./stream-subjects.js";

/** A silo's crypto-shredding parts; present when an actor declares personal data or a key store was given. */
export interface Shredding {
  readonly rules: PersonalDataRules;
  readonly keys: KeyCache;
  /** The silo's stores, wrapped: personal fields are sealed on the way in and opened on the way out. */
  readonly stores: Stores;
  close(): Promise<void>;
}

export interface ShreddingInput {
  readonly actors: readonly ActorClass[];
  /** The `keyStore` option. */
  readonly keyStore: KeyStore | undefined;
  readonly keyCacheTtlMs: number | undefined;
  /** The stores the silo chose; `custom` when the application gave `store`. */
  readonly stores: Stores;
  readonly custom: boolean;
  readonly redisUrl: string | undefined;
  readonly dataDir: string;
  readonly logger: () => Logger;
  /** Called whenever this silo learns that a subject was forgotten (here or on another silo). */
  readonly onForgotten: (subject: string) => void;
}

/**
 * Chooses the key store beside the event store, as the snapshot store is chosen: SQLite in
 * `${dataDir}/keys.db` for the embedded store, Redis for the cluster's Redis store, memory for a
 * MemoryEventStore. Any other store needs `keyStore`: a key store that forgets its keys on
 * restart would make every personal field unreadable.
 */
export async function setUpShredding(input: ShreddingInput): Promise<Shredding | undefined> {
  const rules = new PersonalDataRules(input.actors);
  if (!rules.any && !input.keyStore) return undefined;
  let keyStore = input.keyStore;
  const owned = keyStore === undefined;
  if (!keyStore) keyStore = await defaultKeyStore(input);
  const keys = new KeyCache(keyStore, input.keyCacheTtlMs === undefined ? {} : { ttlMs: input.keyCacheTtlMs });
  const unwatch = keyStore.watchDestroyed?.((subject, destroyedAt) => {
    // This silo's own forget comes back as an echo (Redis): it already deactivated what it had to.
    if (keys.knownDestroyed(subject)) return;
    keys.markDestroyed(subject, destroyedAt);
    input.onForgotten(subject);
  });
  const raw = input.stores;
  const subjects = new StreamSubjects();
  return {
    rules,
    keys,
    stores: {
      ...raw,
      store: new EncryptingEventStore(raw.store, rules, keys, subjects),
      snapshots: new EncryptingSnapshotStore(raw.snapshots, raw.store, rules, keys, input.logger, subjects),
    },
    async close() {
      unwatch?.();
      if (owned) await keyStore.close();
    },
  };
}

async function defaultKeyStore(input: ShreddingInput): Promise<KeyStore> {
  if (input.custom) {
    if (input.stores.store instanceof MemoryEventStore) return new MemoryKeyStore();
    throw new InvalidConfigurationError(
      "keyStore",
      `${declaring(input.actors)} declare personalData and a custom \`store\` was given, so give a durable \`keyStore\` beside it (SqliteKeyStore, PostgresKeyStore or RedisKeyStore); keys lost on restart would make every personal field unreadable`,
    );
  }
  if (input.redisUrl !== undefined) {
    const { RedisKeyStore } = await import("@granary/redis");
    return new RedisKeyStore({ redis: input.redisUrl });
  }
  const { SqliteKeyStore } = await import("@granary/sqlite");
  return new SqliteKeyStore({ path: join(input.dataDir, "keys.db") });
}

function declaring(actors: readonly ActorClass[]): string {
  return actors
    .filter((cls) => (cls as { personalData?: unknown }).personalData !== undefined)
    .map((cls) => cls.name)
    .join(", ");
}
