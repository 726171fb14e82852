import type { EventStore, Upcasters } from "@granary/core";
import type { EventStoreFactory } from "../factory.js";
import { useSuiteLifecycle } from "../suite-lifecycle.js";

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
  const lifecycle = useSuiteLifecycle(
    factory,
    (namespace, upcasters: Upcasters | undefined) => factory.open({ namespace, ...(upcasters ? { upcasters } : {}) }),
    (store) => store.close(),
  );

  return {
    factory,
    get namespace() {
      return lifecycle.namespace;
    },
    get otherNamespace() {
      return `${lifecycle.namespace}-other`;
    },
    open: (options = {}) => lifecycle.open(options.namespace, options.upcasters),
  };
}
