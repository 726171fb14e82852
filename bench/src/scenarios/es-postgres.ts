import { missingExports, pendingScenario } from "../lib/pending.js";

/**
 * Event-sourced command on PostgreSQL, 1,000 actors × 100 callers, against a raw multi-row INSERT
 * with the same unique constraints and a per-event INSERT design. Targets: ≥ 50% of raw, ≥ 3× the
 * per-event design. Needs PostgresEventStore (@granary/postgres) and startPostgresServer (@granary/testing).
 */
export const esPostgres = pendingScenario("es-postgres", "Event-sourced command, PostgresEventStore", async () => {
  const store = await missingExports(() => import("@granary/postgres"), "@granary/postgres", ["PostgresEventStore"]);
  const server = await missingExports(() => import("@granary/testing"), "@granary/testing", ["startPostgresServer"]);
  return store ?? server;
});
