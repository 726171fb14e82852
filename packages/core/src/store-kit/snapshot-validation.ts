import { assertStreamName } from "../actor/actor-identity.js";
import { InvalidArgumentError } from "../errors.js";
import { assertJsonCompatible } from "../events/json-value.js";
import type { Snapshot } from "../ports/snapshot-store.js";

/**
 * Checks what every snapshot store requires before touching storage: a valid stream name, a
 * version that is an integer >= 0, and a state every store can hold unchanged (the payload rules of
 * events: plain JSON, depth limit, well-formed strings without NUL).
 * @throws InvalidArgumentError, InvalidEventError
 */
export function validateSnapshot(snapshot: Snapshot): void {
  if (typeof snapshot !== "object" || snapshot === null) throw new InvalidArgumentError("snapshot must be an object");
  assertStreamName(snapshot.stream);
  if (!Number.isSafeInteger(snapshot.version) || snapshot.version < 0) {
    throw new InvalidArgumentError(`snapshot.version must be an integer >= 0, got ${snapshot.version}`, {
      stream: snapshot.stream,
    });
  }
  assertJsonCompatible(snapshot.state, "$.state");
}
