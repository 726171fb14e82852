import { MemoryReminderStore, MemorySnapshotStore, type ReminderStore } from "@granary/core";
import type { Logger } from "pino";
import { type Shredding, setUpShredding } from "../crypto/shredding.js";
import { openEmbeddedStores, type Stores } from "./default-stores.js";
import type { ClusterParts } from "./silo-cluster.js";
import type { ResolvedSiloOptions } from "./silo-options.js";

export interface SiloStores {
  /** Event and snapshot stores, wrapped for crypto-shredding when actors declare personal data. */
  readonly stores: Stores;
  readonly shredding: Shredding | undefined;
  readonly reminders: { readonly store: ReminderStore; readonly owned: boolean };
}

/**
 * The stores a silo writes to: the ones given, else the cluster's Redis, else embedded SQLite in
 * the data folder; reminders beside the events (the embedded file, else the cluster's Redis, else
 * memory). On failure, closes what it opened and the cluster's back ends the silo owns.
 */
export async function openSiloStores(
  resolved: ResolvedSiloOptions,
  cluster: ClusterParts | undefined,
  hooks: { readonly logger: () => Logger; readonly onForgotten: (subject: string) => void },
): Promise<SiloStores> {
  let stores: Stores;
  let shredding: Shredding | undefined;
  try {
    if (resolved.store) {
      stores = { store: resolved.store, snapshots: resolved.snapshots ?? new MemorySnapshotStore(), owned: false };
    } else if (cluster?.backends.store && cluster.backends.snapshots) {
      // Closed with the cluster back ends.
      stores = { store: cluster.backends.store, snapshots: cluster.backends.snapshots, owned: false };
    } else {
      stores = await openEmbeddedStores(resolved.dataDir);
    }
  } catch (error) {
    if (cluster?.ownsBackends) await cluster.backends.close();
    throw error;
  }
  try {
    shredding = await setUpShredding({
      actors: resolved.actors,
      keyStore: resolved.keyStore,
      keyCacheTtlMs: resolved.keyCacheTtlMs,
      stores,
      custom: resolved.store !== undefined,
      redisUrl: cluster && !resolved.store ? cluster.options.redis : undefined,
      dataDir: resolved.dataDir,
      logger: hooks.logger,
      onForgotten: hooks.onForgotten,
    });
  } catch (error) {
    if (stores.owned) await Promise.allSettled([stores.store.close(), stores.snapshots.close()]);
    if (cluster?.ownsBackends) await cluster.backends.close();
    throw error;
  }
  if (shredding) stores = shredding.stores;
  const reminders = resolved.reminders
    ? { store: resolved.reminders, owned: false }
    : stores.reminders
      ? { store: stores.reminders, owned: stores.owned }
      : { store: cluster?.backends.reminders ?? new MemoryReminderStore(), owned: false };
  return { stores, shredding, reminders };
}
