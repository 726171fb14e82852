import { ErrorCode, isGranaryError } from "@granary/core";

/**
 * Refusals at a silo's door or a connection that never opened: the call never ran anywhere, so the
 * router and the client may send it again without risking a second execution.
 */
export function provablyNotExecuted(error: unknown): boolean {
  if (!isGranaryError(error) || !error.retryable) return false;
  return (
    error.code === ErrorCode.NotOwner || error.code === ErrorCode.ShuttingDown || error.code === ErrorCode.Connection
  );
}
