import { PostgresEventStore, PostgresSnapshotStore } from "@granary/postgres";
import { cartActors, cartErrors } from "../../../examples/cart/dist/index.js";
import { startBenchSilo } from "./silo.js";

/** Where a cart silo keeps its events: the cart-e2e scenario's PostgreSQL, one namespace for the cluster. */
export interface CartSiloOptions {
  readonly redisUrl: string;
  readonly clusterName: string;
  readonly clusterKey: string;
  readonly postgresUrl: string;
  readonly namespace: string;
}

/**
 * A cluster-mode silo running the cart example's actors (Cart, Inventory) on PostgreSQL, with
 * the stores' defaults (event pool of 10, group commit) and the bench's production settings.
 */
export async function hostCartSilo(options: CartSiloOptions) {
  const store = new PostgresEventStore({ connectionString: options.postgresUrl, namespace: options.namespace });
  const snapshots = new PostgresSnapshotStore({
    connectionString: options.postgresUrl,
    namespace: options.namespace,
    poolSize: 2,
  });
  const silo = await startBenchSilo({
    actors: cartActors,
    errors: cartErrors,
    store,
    snapshots,
    redis: options.redisUrl,
    clusterName: options.clusterName,
    clusterKey: options.clusterKey,
    port: 0,
  });
  return {
    activations: async () => silo.activationCount,
    stop: async () => {
      await silo.stop();
      await store.close();
      await snapshots.close();
    },
  };
}
