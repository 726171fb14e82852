/**
 * A bank silo for a cluster: `node examples/bank/dist/silo.js`, configured from the environment.
 * Start it 1, 2 or 3 times against one Redis:
 *
 *   GRANARY_REDIS_URL=redis://127.0.0.1:6379 GRANARY_CLUSTER_KEY=$(openssl rand -hex 32) \
 *   GRANARY_PORT=11111 node examples/bank/dist/silo.js
 *
 * Without GRANARY_REDIS_URL it runs standalone on embedded SQLite (./.granary), and with
 * GRANARY_PORT + GRANARY_CLUSTER_KEY it serves clients over TCP (`Client.connect({ gateways })`).
 *
 * Relies on defaults: events and snapshots in the same Redis (no `store` given), random placement,
 * 10 s membership lease, 15 min idle deactivation, 30 s call timeout, admission limits (OVERLOADED
 * beyond 20,000 calls in flight). Its own SIGTERM/SIGINT handler below decides the exit; the silo
 * drains on the signal by itself (handleSignals).
 */
import { Silo } from "@granary/runtime";
import { pino } from "pino";
import { bankActors, bankErrors } from "./index.js";

const logger = pino({ level: process.env.GRANARY_LOG_LEVEL ?? "info" });

const silo = await Silo.start({
  actors: bankActors,
  errors: bankErrors,
  logger,
  // A fenced silo lost its lease: exit so the supervisor starts a fresh one with a new identity.
  onFenced: () => process.exit(1),
});

let stopping = false;
const shutdown = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "draining before exit");
  silo.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error({ err: error }, "graceful stop failed");
      process.exit(1);
    },
  );
};
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
