import { keyStoreConformance } from "@granary/testing";
import { MemoryKeyStorage, MemoryKeyStore } from "./memory-key-store.js";

let storage = new MemoryKeyStorage();

keyStoreConformance("MemoryKeyStore", {
  watchesDestroyed: true,
  reset: async () => {
    storage = new MemoryKeyStorage();
  },
  open: async ({ namespace }) => new MemoryKeyStore({ namespace, storage }),
  dump: async () =>
    Buffer.concat(
      [...storage.keys.values()].map((entry) => (entry.status === "active" ? entry.key : new Uint8Array())),
    ),
});
