import { reminderStoreConformance } from "@granary/testing";
import { MemoryReminderStorage, MemoryReminderStore } from "./memory-reminder-store.js";

let storage = new MemoryReminderStorage();
reminderStoreConformance("MemoryReminderStore", {
  reset: async () => {
    storage = new MemoryReminderStorage();
  },
  open: async ({ namespace }) => new MemoryReminderStore({ namespace, storage }),
});
