import { InvalidArgumentError } from "../errors.js";
import type { Checkpoint, ListDocumentsOptions, ProjectionCommit } from "../ports/projection-store.js";
import { CheckpointConflictError, ProjectionFencedError } from "./projection-errors.js";

/**
 * The rules of a projection commit, for stores that check them in code (memory; SQLite inside its
 * transaction): fencing first, then the expected position. Returns the checkpoint to store.
 * @throws ProjectionFencedError, CheckpointConflictError, InvalidArgumentError
 */
export function checkCommit(projection: string, stored: Checkpoint | undefined, commit: ProjectionCommit): Checkpoint {
  validateCommit(projection, commit);
  const epoch = commit.epoch ?? 0;
  const current = stored ?? { position: 0, epoch: 0, ready: false };
  if (epoch < current.epoch) throw new ProjectionFencedError(projection, epoch, current.epoch);
  if (current.position !== commit.expectedPosition) {
    throw new CheckpointConflictError(projection, commit.expectedPosition, current.position);
  }
  return { position: commit.position, epoch, ready: current.ready || commit.ready === true };
}

/** Argument checks every store makes before touching its database. @throws InvalidArgumentError */
export function validateCommit(projection: string, commit: ProjectionCommit): void {
  if (typeof projection !== "string" || projection.length === 0) {
    throw new InvalidArgumentError("projection must be a non-empty string");
  }
  const { expectedPosition, position, epoch = 0 } = commit;
  if (!Number.isSafeInteger(expectedPosition) || expectedPosition < 0) {
    throw new InvalidArgumentError(`expectedPosition must be an integer >= 0, got ${expectedPosition}`);
  }
  if (!Number.isSafeInteger(position) || position < expectedPosition) {
    throw new InvalidArgumentError(
      `position must be an integer >= expectedPosition (${expectedPosition}), got ${position}`,
    );
  }
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new InvalidArgumentError(`epoch must be an integer >= 0, got ${epoch}`);
  }
}

export function checkListOptions(options: ListDocumentsOptions): void {
  if (!Number.isSafeInteger(options.limit) || options.limit < 1) {
    throw new InvalidArgumentError(`limit must be an integer >= 1, got ${options.limit}`);
  }
  if (options.after !== undefined && typeof options.after !== "string") {
    throw new InvalidArgumentError("after must be the `next` cursor of a previous page (a string)");
  }
}

/** Key order of the in-memory store: by UTF-16 code units, like SQLite's BINARY collation on ASCII. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
