import { eventStoreConformance, snapshotStoreConformance } from "@granary/testing";
import { MemoryEventStorage } from "./memory-event-storage.js";
import { MemoryEventStore } from "./memory-event-store.js";
import { MemorySnapshotStorage, MemorySnapshotStore } from "./memory-snapshot-store.js";

let events = new MemoryEventStorage();
eventStoreConformance("MemoryEventStore", {
  reset: async () => {
    events = new MemoryEventStorage();
  },
  open: async (options) => new MemoryEventStore({ storage: events, ...options }),
});

let snapshots = new MemorySnapshotStorage();
snapshotStoreConformance("MemorySnapshotStore", {
  reset: async () => {
    snapshots = new MemorySnapshotStorage();
  },
  open: async ({ namespace }) => new MemorySnapshotStore({ namespace, storage: snapshots }),
});
