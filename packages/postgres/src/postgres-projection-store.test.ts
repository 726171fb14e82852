import { projectionStoreConformance, usePostgresServer } from "@granary/testing";
import { PostgresEventStore } from "./postgres-event-store.js";
import { PostgresProjectionStore } from "./postgres-projection-store.js";

// One server for the file; the suite gives every test its own namespace.
const server = usePostgresServer();
const quietLogger = { warn: () => {} };

projectionStoreConformance("PostgresProjectionStore (the event store's pool)", {
  transactions: true,
  open: async ({ namespace }) => {
    const events = new PostgresEventStore({ connectionString: server.url, namespace, logger: quietLogger });
    return { events, projections: events.openProjectionStore() };
  },
});

projectionStoreConformance("PostgresProjectionStore (own pool)", {
  transactions: true,
  open: async ({ namespace }) => ({
    events: new PostgresEventStore({ connectionString: server.url, namespace, logger: quietLogger }),
    projections: new PostgresProjectionStore({ connectionString: server.url, namespace, logger: quietLogger }),
  }),
});
