import { projectionStoreConformance } from "@granary/testing";
import { MemoryEventStorage } from "./memory-event-storage.js";
import { MemoryEventStore } from "./memory-event-store.js";

let storage = new MemoryEventStorage();

projectionStoreConformance("MemoryProjectionStore", {
  reset: async () => {
    storage = new MemoryEventStorage();
  },
  open: async ({ namespace }) => {
    const events = new MemoryEventStore({ storage, namespace });
    return { events, projections: events.openProjectionStore() };
  },
});
