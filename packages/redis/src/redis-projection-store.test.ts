import { projectionStoreConformance, type RedisServer, startRedisServer } from "@granary/testing";
import { afterAll, beforeAll } from "vitest";
import { RedisEventStore } from "./redis-event-store.js";
import { RedisProjectionStore } from "./redis-projection-store.js";

let server: RedisServer;
const quietLogger = { warn: () => {} };

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

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
