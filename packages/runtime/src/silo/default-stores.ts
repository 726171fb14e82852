import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { EventStore, SnapshotStore } from "@granary/core";
import { loadOptionalPackage } from "../options/optional-package.js";

export interface Stores {
  readonly store: EventStore;
  readonly snapshots: SnapshotStore;
  /** Whether the silo opened them (and so closes them on stop). */
  readonly owned: boolean;
}

/** The zero-config default: SQLite in `dataDir`, loaded only when no store was given. */
export async function openEmbeddedStores(dataDir: string): Promise<Stores> {
  mkdirSync(dataDir, { recursive: true });
  const { SqliteEventStore, SqliteSnapshotStore } = await loadOptionalPackage(
    () => import("@granary/sqlite"),
    "@granary/sqlite",
    "store",
    "pass `store` and `snapshots` (e.g. a PostgresEventStore) to the silo",
  );
  const path = join(dataDir, "granary.db");
  return { store: new SqliteEventStore({ path }), snapshots: new SqliteSnapshotStore({ path }), owned: true };
}
