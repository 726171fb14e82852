import { InvalidArgumentError } from "../errors.js";

/**
 * Checks the arguments of `read` / `readWithErrors` the same way in every store, before touching
 * storage: a non-empty stream name, `fromVersion` an integer >= 1 (versions start at 1), and a
 * `limit`, when given, an integer >= 1. Stores used to clamp, pass through or refuse these
 * differently; a bad value is now always an InvalidArgumentError naming it.
 */
export function validateRead(stream: string, fromVersion: number, limit: number | undefined): void {
  if (typeof stream !== "string" || stream.length === 0) {
    throw new InvalidArgumentError("stream must be a non-empty string");
  }
  if (!Number.isSafeInteger(fromVersion) || fromVersion < 1) {
    throw new InvalidArgumentError(
      `fromVersion must be an integer >= 1 (1 = the first event), got ${String(fromVersion)}`,
      { stream },
    );
  }
  if (limit !== undefined) checkLimit(limit, stream);
}

/** Checks `readAll`'s arguments: `fromPosition` an integer >= 0 (0 = the start), `limit` an integer >= 1. */
export function validateReadAll(fromPosition: number, limit: number): void {
  if (!Number.isSafeInteger(fromPosition) || fromPosition < 0) {
    throw new InvalidArgumentError(
      `fromPosition must be an integer >= 0 (0 = the start of the feed), got ${String(fromPosition)}`,
    );
  }
  checkLimit(limit);
}

function checkLimit(limit: number, stream?: string): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(
      `limit must be an integer >= 1, got ${String(limit)}`,
      stream === undefined ? {} : { stream },
    );
  }
}
