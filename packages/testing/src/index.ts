/**
 * @granary/testing — test kit for Granary: the store conformance suites every store runs, and helpers
 * for clusters and throwaway servers.
 *
 * @example
 * import { eventStoreConformance } from "@granary/testing";
 * eventStoreConformance("MyEventStore", { open: async ({ namespace, upcasters }) => new MyEventStore({ namespace, upcasters }) });
 */

export * from "./cluster/test-cluster.js";
export * from "./conformance/index.js";
export * from "./server-hooks.js";
export * from "./servers/postgres-server.js";
export * from "./servers/redis-server.js";
export * from "./specification/actor-spec.js";
