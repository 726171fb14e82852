import { MemoryDirectory } from "@granary/core";
import { directoryConformance } from "./directory-conformance.js";

/** One directory per cluster name, shared by every view of it (as silos share one in a test cluster). */
const clusters = new Map<string, { directory: MemoryDirectory; live: Set<string> }>();

directoryConformance("MemoryDirectory", {
  async open(cluster) {
    let state = clusters.get(cluster);
    if (!state) {
      const live = new Set<string>();
      state = { directory: new MemoryDirectory({ isLive: (siloId) => live.has(siloId) }), live };
      clusters.set(cluster, state);
    }
    const { directory, live } = state;
    return {
      directory,
      join: async (siloId) => void live.add(siloId),
      expire: async (siloId) => void live.delete(siloId),
      close: async () => {
        clusters.delete(cluster);
      },
    };
  },
});
