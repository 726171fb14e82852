import { describe } from "vitest";
import { appendTests } from "./event-store/appends.js";
import { correlationTests } from "./event-store/correlation.js";
import { feedTests } from "./event-store/feed.js";
import { fencingTests } from "./event-store/fencing.js";
import { idempotencyTests } from "./event-store/idempotency.js";
import { identifierTests } from "./event-store/identifiers.js";
import { namespaceTests } from "./event-store/namespaces.js";
import { orderingTests } from "./event-store/ordering.js";
import { purgeTests } from "./event-store/purge.js";
import { readArgumentTests } from "./event-store/read-arguments.js";
import { readTests } from "./event-store/reads.js";
import { scaleTests } from "./event-store/scale.js";
import { useEventStoreSuite } from "./event-store/suite-context.js";
import { upcastingTests } from "./event-store/upcasting.js";
import type { EventStoreFactory } from "./factory.js";

/**
 * Registers the EventStore conformance suite (vitest) for one store implementation: every
 * invariant of the `EventStore` port, checked the same way for every backend.
 *
 * @example
 * // packages/sqlite/src/sqlite-event-store.test.ts
 * import { eventStoreConformance } from "@granary/testing";
 * let path = "";
 * eventStoreConformance("SqliteEventStore", {
 *   reset: async () => { path = join(tmpdir(), `granary-${randomUUID()}.db`); },
 *   open: async ({ namespace, upcasters }) => new SqliteEventStore({ path, namespace, ...(upcasters && { upcasters }) }),
 * });
 */
export function eventStoreConformance(name: string, factory: EventStoreFactory): void {
  describe(`${name} - EventStore conformance`, () => {
    const ctx = useEventStoreSuite(factory);
    describe("appends and version conflicts", () => appendTests(ctx));
    describe("idempotency", () => idempotencyTests(ctx));
    describe("reads", () => readTests(ctx));
    describe("read arguments", () => readArgumentTests(ctx));
    describe("fencing epochs", () => fencingTests(ctx));
    describe("global feed", () => feedTests(ctx));
    describe("ordering", () => orderingTests(ctx));
    describe("namespaces", () => namespaceTests(ctx));
    describe("purge", () => purgeTests(ctx));
    describe("correlation", () => correlationTests(ctx));
    describe("upcasting and corrupt history", () => upcastingTests(ctx));
    describe("scale", () => scaleTests(ctx));
    describe("identifiers and payload rules", () => identifierTests(ctx));
  });
}
