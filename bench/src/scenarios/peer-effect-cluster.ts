import { pendingScenario } from "../lib/pending.js";

/**
 * @effect/cluster entities in-process (calls/s, bytes per entity). Installed (0.60 with effect 3),
 * but an in-process cluster needs a sharding storage, runner and RPC setup that is not written yet.
 */
export const peerEffectCluster = pendingScenario(
  "peer-effect-cluster",
  "Peer: @effect/cluster entities, in-process",
  async () => "the @effect/cluster in-process harness (sharding storage + runners) is not written yet",
);
