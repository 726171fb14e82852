import { InvalidArgumentError } from "../errors.js";
import { assertJsonCompatible, type JsonObject } from "./json-value.js";

/** The largest call metadata accepted, as UTF-8 bytes of its JSON: it is copied into every event. */
export const MAX_CALL_METADATA_BYTES = 4_096;

const encoder = new TextEncoder();

/**
 * Checks the call option `metadata` like an event payload: a plain JSON object, no larger than
 * {@link MAX_CALL_METADATA_BYTES} serialized.
 * @throws InvalidArgumentError naming what is wrong
 */
export function assertCallMetadata(value: unknown): asserts value is JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(
      `call option \`metadata\` must be a plain JSON object like { reason: "chargeback #123" }, got ${Array.isArray(value) ? "an array" : String(value)}`,
    );
  }
  try {
    assertJsonCompatible(value, "metadata");
  } catch (error) {
    const path = (error as { path?: string }).path ?? "metadata";
    throw new InvalidArgumentError(
      `call option \`metadata\` is not plain JSON at ${path}: it is stored in every event the call raises (strings, finite numbers, booleans, null, arrays and plain objects only)`,
      { path },
    );
  }
  const bytes = encoder.encode(JSON.stringify(value)).length;
  if (bytes > MAX_CALL_METADATA_BYTES) {
    throw new InvalidArgumentError(
      `call option \`metadata\` is ${bytes} bytes of JSON; at most ${MAX_CALL_METADATA_BYTES} are allowed (it is copied into every event the call raises: keep it to a reason and a few ids)`,
      { bytes, max: MAX_CALL_METADATA_BYTES },
    );
  }
}
