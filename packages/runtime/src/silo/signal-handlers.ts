import type { Logger } from "pino";

/** What the process-wide handler needs from a silo. */
export interface SignalTarget {
  readonly logger: Logger;
  stop(): Promise<void>;
}

const SIGNALS = ["SIGTERM", "SIGINT"] as const;
type Signal = (typeof SIGNALS)[number];

/** Silos that asked for signal handling, in this process. One listener per signal serves them all. */
const targets = new Set<SignalTarget>();
let draining = false;

const onSignal = (signal: Signal): void => {
  // A second signal while draining: the operator wants out now.
  if (draining) {
    process.exit(signal === "SIGINT" ? 130 : 143);
  }
  draining = true;
  const silos = [...targets];
  for (const silo of silos) silo.logger.info({ signal }, `received ${signal}: draining before exit`);
  // The application's own listeners for this signal decide when to exit; without any, the silo does.
  const appListeners = process.listenerCount(signal) - 1;
  Promise.allSettled(silos.map((silo) => silo.stop())).then(
    (results) => {
      const failed = results.filter((r) => r.status === "rejected");
      for (const result of failed) {
        silos[0]?.logger.error({ err: (result as PromiseRejectedResult).reason }, "graceful stop failed");
      }
      draining = false;
      if (targets.size === 0) removeListeners();
      if (appListeners === 0) process.exit(failed.length > 0 ? 1 : 0);
    },
    () => process.exit(1),
  );
};
const listeners = { SIGTERM: () => onSignal("SIGTERM"), SIGINT: () => onSignal("SIGINT") } as const;

function removeListeners(): void {
  for (const signal of SIGNALS) process.off(signal, listeners[signal]);
}

/**
 * Makes SIGTERM and SIGINT drain `silo` (graceful stop) and then exit the process, unless the
 * application listens for the signal too (then its listener decides when to exit). Returns the
 * function that undoes it; the listeners are removed when the last silo is gone, so starting and
 * stopping silos in one process never leaks them.
 */
export function handleSignals(silo: SignalTarget): () => void {
  if (targets.size === 0) for (const signal of SIGNALS) process.on(signal, listeners[signal]);
  targets.add(silo);
  return () => {
    if (!targets.delete(silo)) return;
    if (targets.size === 0 && !draining) removeListeners();
  };
}
