import { ErrorCode, GranaryError } from "../errors.js";

export class ProjectionFencedError extends GranaryError {
  override name = "ProjectionFencedError";
  constructor(
    readonly projection: string,
    readonly epoch: number,
    readonly currentEpoch: number,
  ) {
    super(
      ErrorCode.ProjectionFenced,
      `checkpoint write of projection "${projection}" carries epoch ${epoch}, but epoch ${currentEpoch} has already written: the projection moved to another silo`,
      { data: { projection, epoch, currentEpoch } },
    );
  }
}

export class CheckpointConflictError extends GranaryError {
  override name = "CheckpointConflictError";
  constructor(
    readonly projection: string,
    readonly expectedPosition: number,
    readonly actualPosition: number,
  ) {
    super(
      ErrorCode.CheckpointConflict,
      `projection "${projection}" is at position ${actualPosition}, but the commit expected ${expectedPosition}: another runner advanced it`,
      { data: { projection, expectedPosition, actualPosition } },
    );
  }
}

export class UnknownProjectionError extends GranaryError {
  override name = "UnknownProjectionError";
  constructor(readonly projection: string) {
    super(
      ErrorCode.UnknownProjection,
      `no projection named "${projection}" is registered; pass its class in Silo.start({ projections: [...] })`,
      { data: { projection } },
    );
  }
}

export class ProjectionFailedError extends GranaryError {
  override name = "ProjectionFailedError";
  constructor(
    readonly projection: string,
    readonly position: number,
    cause: unknown,
  ) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(
      ErrorCode.ProjectionFailed,
      `projection "${projection}" stopped at position ${position} after its handler kept failing: ${message}; fix the handler and restart the silo (or call silo.projections.restart)`,
      { cause, data: { projection, position } },
    );
  }
}

export class SubscriberDroppedError extends GranaryError {
  override name = "SubscriberDroppedError";
  constructor(
    readonly pattern: string,
    readonly limit: number,
  ) {
    super(
      ErrorCode.SubscriberDropped,
      `event bus subscriber on "${pattern}" fell ${limit} events behind and was dropped; handle events faster or raise \`bufferLimit\` (durable consumers are projections)`,
      { data: { pattern, limit } },
    );
  }
}
