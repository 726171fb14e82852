import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type EventStore, InvalidConfigurationError, type SnapshotStore } from "@granary/core";

export interface Stores {
  readonly store: EventStore;
  readonly snapshots: SnapshotStore;
  /** Whether the silo opened them (and so closes them on stop). */
  readonly owned: boolean;
}

/** The zero-config default: SQLite in `dataDir`, loaded only when no store was given. */
export async function openEmbeddedStores(dataDir: string): Promise<Stores> {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const problem =
      code === "EEXIST" || code === "ENOTDIR"
        ? `"${dataDir}" (or a folder on its path) is a file, not a folder; point dataDir (GRANARY_DATA_DIR) at a folder, which is created if missing`
        : `cannot create the folder "${dataDir}" (${code ?? String(cause)}); point dataDir (GRANARY_DATA_DIR) at a writable folder`;
    throw new InvalidConfigurationError("dataDir", problem);
  }
  const { SqliteEventStore, SqliteSnapshotStore } = await import("@granary/sqlite");
  const path = join(dataDir, "granary.db");
  return { store: new SqliteEventStore({ path }), snapshots: new SqliteSnapshotStore({ path }), owned: true };
}
