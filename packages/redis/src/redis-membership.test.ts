import { membershipConformance, useRedisServer } from "@granary/testing";
import { RedisMembership } from "./redis-membership.js";

const server = useRedisServer();

membershipConformance("RedisMembership", {
  open: async (cluster) =>
    new RedisMembership({ redis: server.url, cluster, watchPollIntervalMs: 100, logger: { warn: () => {} } }),
});
