import { afterAll, afterEach, beforeEach } from "vitest";
import { uniqueNamespace } from "./fixtures.js";

/** The part of every conformance factory that the per-test lifecycle calls. */
export interface LifecycleHooks {
  /** Called before each test: switch to a fresh, empty database (optional when namespaces suffice). */
  reset?(): Promise<void>;
  /** Called once after the last test: remove databases, stop servers. */
  teardown?(): Promise<void>;
}

/** What a conformance suite sees of the current test. */
export interface SuiteLifecycle<T, A extends unknown[] = []> {
  /** The current test's own namespace (or cluster name). */
  readonly namespace: string;
  /** Opens what the suite tests (on the current namespace unless told), closed after the test. */
  open(namespace?: string, ...rest: A): Promise<T>;
  /** Closes everything opened so far (as after each test), for tests that re-open. */
  closeAll(): Promise<void>;
}

/**
 * Registers the per-test lifecycle every conformance suite shares (call it inside the suite's
 * `describe`): `reset` and a namespace of its own before each test, closing everything the test
 * opened after it, `teardown` after the last test.
 *
 * @param factory the adapter's factory; `reset` and `teardown` are called as its methods.
 * @param open opens one store (or harness) on a namespace, with whatever else the suite passes.
 * @param close closes one opened value; must be idempotent, since tests close stores themselves to
 *   re-open them.
 */
export function useSuiteLifecycle<T, A extends unknown[] = []>(
  factory: LifecycleHooks,
  open: (namespace: string, ...rest: A) => Promise<T>,
  close: (opened: T) => Promise<void>,
): SuiteLifecycle<T, A> {
  let namespace = "";
  let opened: T[] = [];

  beforeEach(async () => {
    await factory.reset?.();
    namespace = uniqueNamespace();
  });
  const closeAll = async (): Promise<void> => {
    const toClose = opened;
    opened = [];
    await Promise.all(toClose.map((value) => close(value)));
  };
  afterEach(closeAll);
  afterAll(async () => {
    await factory.teardown?.();
  });

  return {
    get namespace() {
      return namespace;
    },
    async open(ns = namespace, ...rest) {
      const value = await open(ns, ...rest);
      opened.push(value);
      return value;
    },
    closeAll,
  };
}

/**
 * {@link useSuiteLifecycle} for a store factory whose `open` takes `{ namespace }` and whose stores
 * close themselves (key, reminder and snapshot stores).
 */
export function useStoreSuite<S extends { close(): Promise<void> }>(
  factory: LifecycleHooks & { open(options: { readonly namespace: string }): Promise<S> },
): SuiteLifecycle<S> {
  return useSuiteLifecycle(
    factory,
    (namespace) => factory.open({ namespace }),
    (store) => store.close(),
  );
}
