import type { EventStore, Upcasters } from "@granary/core";
import { afterAll, afterEach, beforeEach } from "vitest";
import type { EventStoreFactory } from "../factory.js";
import { uniqueNamespace } from "../fixtures.js";

/** What each topic file of the event store suite sees of the current test. */
export interface EventStoreSuiteContext {
  readonly factory: EventStoreFactory;
  /** The current test's own namespace. */
  readonly namespace: string;
  /** A second namespace on the same database, for isolation tests. */
  readonly otherNamespace: string;
  /** Opens a store (the current namespace unless told), closed by the suite after the test. */
  open(options?: { readonly namespace?: string; readonly upcasters?: Upcasters }): Promise<EventStore>;
}

/** Registers the per-test lifecycle (fresh database or namespace, closing stores) and returns the context. */
export function useEventStoreSuite(factory: EventStoreFactory): EventStoreSuiteContext {
  let namespace = "";
  let opened: EventStore[] = [];

  beforeEach(async () => {
    await factory.reset?.();
    namespace = uniqueNamespace();
  });
  afterEach(async () => {
    const stores = opened;
    opened = [];
    // close() must be idempotent: tests close stores themselves to re-open them.
    await Promise.all(stores.map((store) => store.close()));
  });
  afterAll(async () => {
    await factory.teardown?.();
  });

  return {
    factory,
    get namespace() {
      return namespace;
    },
    get otherNamespace() {
      return `${namespace}-other`;
    },
    async open(options = {}) {
      const store = await factory.open({
        namespace: options.namespace ?? namespace,
        ...(options.upcasters ? { upcasters: options.upcasters } : {}),
      });
      opened.push(store);
      return store;
    },
  };
}
