/**
 * Defaults shared by the silo and the client, in one place so the two cannot drift apart (the
 * client imports this file, not the silo's options).
 */

/** How long a call may take before the caller gets CallTimeoutError (Orleans' default too). */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/** Silos and clients that share a cluster name (and a Redis) form one cluster. */
export const DEFAULT_CLUSTER_NAME = "default";
