import { InvalidArgumentError } from "@granary/core";

/** Timers cannot wait longer than this (2^31 − 1 ms, about 24.8 days): a longer timeout would fire at once. */
export const MAX_CALL_TIMEOUT_MS = 2_147_483_647;

/**
 * Throws INVALID_ARGUMENT unless `timeoutMs` is a finite number of milliseconds in
 * (0, {@link MAX_CALL_TIMEOUT_MS}]; the same rule for call options and for calls from the wire.
 * @throws InvalidArgumentError
 */
export function assertCallTimeout(timeoutMs: unknown): asserts timeoutMs is number {
  if (
    typeof timeoutMs !== "number" ||
    !Number.isFinite(timeoutMs) ||
    timeoutMs <= 0 ||
    timeoutMs > MAX_CALL_TIMEOUT_MS
  ) {
    throw new InvalidArgumentError(
      `timeoutMs must be a finite number of milliseconds > 0 and <= ${MAX_CALL_TIMEOUT_MS}, got ${String(timeoutMs)}`,
      { rule: "timeout" },
    );
  }
}
