import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type EventStore, InvalidConfigurationError, type ReminderStore, type SnapshotStore } from "@granary/core";
import { loadOptionalPackage } from "../options/optional-package.js";

export interface Stores {
  readonly store: EventStore;
  readonly snapshots: SnapshotStore;
  /** Reminders beside the events, when the silo opened the embedded store. */
  readonly reminders?: ReminderStore;
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
  const { SqliteEventStore, SqliteReminderStore, SqliteSnapshotStore } = await loadOptionalPackage(
    () => import("@granary/sqlite"),
    "@granary/sqlite",
    "store",
    "pass `store` and `snapshots` (e.g. a PostgresEventStore) to the silo",
  );
  const path = join(dataDir, "granary.db");
  return {
    store: new SqliteEventStore({ path }),
    snapshots: new SqliteSnapshotStore({ path }),
    reminders: new SqliteReminderStore({ path }),
    owned: true,
  };
}
