import { MemoryMembership } from "@granary/core";
import { membershipConformance } from "./membership-conformance.js";

/** One membership per cluster name, shared by every view of it (as silos share one in a test cluster). */
const clusters = new Map<string, MemoryMembership>();

membershipConformance("MemoryMembership", {
  async open(cluster) {
    let membership = clusters.get(cluster);
    if (!membership) {
      membership = new MemoryMembership({ watchPollIntervalMs: 20 });
      clusters.set(cluster, membership);
    }
    return membership;
  },
  async teardown() {
    clusters.clear();
  },
});
