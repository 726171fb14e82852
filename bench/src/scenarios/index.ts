import type { Scenario } from "../lib/scenario.js";
import { busFanout } from "./bus-fanout.js";
import { cartE2e } from "./cart-e2e.js";
import { coldActivation } from "./cold-activation.js";
import { crossSilo } from "./cross-silo.js";
import { directory } from "./directory.js";
import { esMemory } from "./es-memory.js";
import { esPostgres } from "./es-postgres.js";
import { esRedis } from "./es-redis.js";
import { esSqlite } from "./es-sqlite.js";
import { localCall } from "./local-call.js";
import { memoryPerActivation } from "./memory-per-activation.js";
import { peerEffectCluster } from "./peer-effect-cluster.js";
import { peerEmmett } from "./peer-emmett.js";
import { peerNact } from "./peer-nact.js";
import { peerRivetkit } from "./peer-rivetkit.js";
import { piiSqlite } from "./pii-sqlite.js";
import { projectionLag } from "./projection-lag.js";
import { projectionRebuild } from "./projection-rebuild.js";
import { reminders } from "./reminders.js";
import { scaleOut } from "./scale-out.js";
import { stateAt } from "./state-at.js";
import { tracing } from "./tracing.js";

/** Every scenario, in the order `pnpm bench` runs them and the README lists them. */
export const SCENARIOS: readonly Scenario[] = [
  localCall,
  esMemory,
  esSqlite,
  piiSqlite,
  esPostgres,
  esRedis,
  coldActivation,
  stateAt,
  memoryPerActivation,
  crossSilo,
  directory,
  scaleOut,
  cartE2e,
  tracing,
  reminders,
  peerNact,
  peerEmmett,
  peerEffectCluster,
  peerRivetkit,
  projectionRebuild,
  projectionLag,
  busFanout,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
