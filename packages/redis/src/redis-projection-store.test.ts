import { projectionStoreConformance, useRedisServer } from "@granary/testing";
import { RedisEventStore } from "./redis-event-store.js";
import { RedisProjectionStore } from "./redis-projection-store.js";

const server = useRedisServer();
const quietLogger = { warn: () => {} };

projectionStoreConformance("RedisProjectionStore (the event store's client)", {
  open: async ({ namespace }) => {
    const events = new RedisEventStore({ redis: server.url, namespace, logger: quietLogger });
    return { events, projections: events.openProjectionStore() };
  },
});

projectionStoreConformance("RedisProjectionStore (own connection)", {
  open: async ({ namespace }) => ({
    events: new RedisEventStore({ redis: server.url, namespace, logger: quietLogger }),
    projections: new RedisProjectionStore({ redis: server.url, namespace, logger: quietLogger }),
  }),
});
