/**
 * Every error Granary throws is a {@link GranaryError} with a stable string `code`, so callers can
 * branch on `code` across processes where `instanceof` cannot work.
 */

export const ErrorCode = {
  /** An append's expected version did not match the stream's current version. */
  VersionConflict: "VERSION_CONFLICT",
  /** An append carried a fencing epoch older than one the store has already accepted for the stream. */
  FencedWrite: "FENCED_WRITE",
  /** An event id was re-sent with content that differs from what the store already holds. */
  IdempotencyConflict: "IDEMPOTENCY_CONFLICT",
  /** The activation lost a commit race and was deactivated; the call may be retried. */
  StaleActivation: "STALE_ACTIVATION",
  /** No actor class is registered under the requested type name. */
  UnknownActorType: "UNKNOWN_ACTOR_TYPE",
  /** The actor class has no public method of that name. */
  UnknownMethod: "UNKNOWN_METHOD",
  /** The call did not complete within its timeout. */
  CallTimeout: "CALL_TIMEOUT",
  /** A value could not be encoded or decoded for the wire or the store. */
  Serialization: "SERIALIZATION_ERROR",
  /** A raised event (or snapshot) is not plain JSON-compatible data. */
  InvalidEvent: "INVALID_EVENT",
  /** Stored history could not be replayed (undecodable row, apply threw, gap in versions). */
  CorruptHistory: "CORRUPT_HISTORY",
  /** The stream was purged (right to be forgotten); its history can no longer be replayed. */
  StreamPurged: "STREAM_PURGED",
  /** An activation could not be started (onActivate threw, store unreachable). */
  ActivationFailed: "ACTIVATION_FAILED",
  /** Options or environment are invalid; the message names the option and the fix. */
  InvalidConfiguration: "INVALID_CONFIGURATION",
  /** An argument passed to a Granary API is invalid. */
  InvalidArgument: "INVALID_ARGUMENT",
  /** The silo or client is shutting down or closed and accepts no new calls. */
  ShuttingDown: "SHUTTING_DOWN",
  /** The call reached a silo that does not own the actor; retry after refreshing the directory. */
  NotOwner: "NOT_OWNER",
  /** A peer could not be reached or the connection broke. */
  Connection: "CONNECTION_ERROR",
  /** A peer failed authentication (wrong cluster key) or sent an invalid frame. */
  Unauthorized: "UNAUTHORIZED",
  /** An error thrown by actor code that is not a GranaryError, carried with its name and message. */
  ActorError: "ACTOR_ERROR",
  /** The store went back in time (old backup, flush, lagging replica): acknowledged events are gone, writes stop. */
  StoreRewound: "STORE_REWOUND",
  /** A reference bound to a past point (`asOf`) was asked to run a method that is not `readOnly`. */
  PastStateReadOnly: "PAST_STATE_READ_ONLY",
  /** The silo shed the call at its door because it is at a load limit; nothing ran: retry later. */
  Overloaded: "OVERLOADED",
  /** No silo could be reached to send the call to; nothing was sent: retry once a silo is up. */
  NoSiloAvailable: "NO_SILO_AVAILABLE",
  /** A projection checkpoint write carried an older owner epoch: the projection moved to another silo. */
  ProjectionFenced: "PROJECTION_FENCED",
  /** A projection checkpoint write expected another checkpoint position (someone else advanced it). */
  CheckpointConflict: "CHECKPOINT_CONFLICT",
  /** No projection of that name is registered (or known to the store). */
  UnknownProjection: "UNKNOWN_PROJECTION",
  /** A projection stopped after its handler kept failing; its error and position are in the status. */
  ProjectionFailed: "PROJECTION_FAILED",
  /** An event bus subscriber fell too far behind and was dropped. */
  SubscriberDropped: "SUBSCRIBER_DROPPED",
  /**
   * raise() was refused because two calls of one call chain were inside the actor side by side (a
   * fan-out that re-entered it), where events could not be kept or rolled back per call.
   */
  ConcurrentRaise: "CONCURRENT_RAISE",
  /**
   * A call with an idempotency key already ran and committed events, but its reply was not
   * recorded (it failed after a mid-turn commit, and the activation that knew its error is gone).
   */
  AlreadyExecuted: "ALREADY_EXECUTED",
  /** Personal data was raised for a data subject whose key was destroyed (`forget`). */
  SubjectForgotten: "SUBJECT_FORGOTTEN",
  /**
   * The store's database schema lacks migrations this version needs, and the role it connects as
   * may not run them (a least-privilege application role): the schema owner must migrate first.
   */
  SchemaNotMigrated: "SCHEMA_NOT_MIGRATED",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Extra context carried by an error; must be plain data so it can cross the wire. */
export type ErrorData = Readonly<Record<string, unknown>>;

export interface GranaryErrorOptions extends ErrorOptions {
  /** Whether retrying the same call can succeed (the call provably had no effect). */
  readonly retryable?: boolean;
  readonly data?: ErrorData;
}

/**
 * Base of all errors. `code` is stable across versions; `message` says what to change.
 * Domain errors in user code may extend it with their own code (e.g. `INSUFFICIENT_FUNDS`).
 */
export class GranaryError extends Error {
  override name = "GranaryError";
  readonly code: string;
  readonly retryable: boolean;
  readonly data: ErrorData;

  constructor(code: string, message: string, options: GranaryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.data = options.data ?? {};
  }
}

/**
 * Base class for errors that actor code throws on purpose to reject a command.
 *
 * @example
 * class InsufficientFunds extends DomainError {
 *   constructor(balance: number, amount: number) {
 *     super("INSUFFICIENT_FUNDS", `balance ${balance} is less than ${amount}`, { data: { balance, amount } });
 *   }
 * }
 */
export class DomainError extends GranaryError {
  override name = "DomainError";
  constructor(code: string, message: string, options: GranaryErrorOptions = {}) {
    super(code, message, options);
    // Subclasses get their own class name without having to set it by hand.
    this.name = new.target.name;
  }
}

export class VersionConflictError extends GranaryError {
  override name = "VersionConflictError";
  constructor(
    readonly stream: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(
      ErrorCode.VersionConflict,
      `stream "${stream}" is at version ${actualVersion}, but the append expected ${expectedVersion}: another writer committed first`,
      { data: { stream, expectedVersion, actualVersion } },
    );
  }
}

export class FencedWriteError extends GranaryError {
  override name = "FencedWriteError";
  constructor(
    readonly stream: string,
    readonly epoch: number,
    readonly currentEpoch: number,
  ) {
    super(
      ErrorCode.FencedWrite,
      `append to stream "${stream}" carries epoch ${epoch}, but epoch ${currentEpoch} has already written: this activation was superseded`,
      { data: { stream, epoch, currentEpoch } },
    );
  }
}

export class IdempotencyConflictError extends GranaryError {
  override name = "IdempotencyConflictError";
  constructor(
    readonly stream: string,
    readonly eventId: string,
  ) {
    super(
      ErrorCode.IdempotencyConflict,
      `event id ${eventId} is already stored in stream "${stream}" with different content; an event id may only be re-sent unchanged`,
      { data: { stream, eventId } },
    );
  }
}

export class StaleActivationError extends GranaryError {
  override name = "StaleActivationError";
  constructor(
    readonly actor: string,
    cause?: unknown,
  ) {
    super(
      ErrorCode.StaleActivation,
      `activation of ${actor} was stale (another activation committed first); it was deactivated and the call had no effect: retry it`,
      { retryable: true, cause, data: { actor } },
    );
  }
}

export class UnknownActorTypeError extends GranaryError {
  override name = "UnknownActorTypeError";
  constructor(
    readonly actorType: string,
    known: readonly string[],
  ) {
    super(
      ErrorCode.UnknownActorType,
      `no actor class is registered as "${actorType}" (registered: ${known.join(", ") || "none"}); add it to the silo's \`actors\` option`,
      { data: { actorType } },
    );
  }
}

export class UnknownMethodError extends GranaryError {
  override name = "UnknownMethodError";
  constructor(
    readonly actorType: string,
    readonly method: string,
  ) {
    super(ErrorCode.UnknownMethod, `actor type "${actorType}" has no public method "${method}"`, {
      data: { actorType, method },
    });
  }
}

export class CallTimeoutError extends GranaryError {
  override name = "CallTimeoutError";
  constructor(
    readonly actor: string,
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(
      ErrorCode.CallTimeout,
      `call ${actor}.${method} did not complete within ${timeoutMs} ms; it may or may not have executed (raise \`timeoutMs\` if the method is slow)`,
      { data: { actor, method, timeoutMs } },
    );
  }
}

export class SerializationError extends GranaryError {
  override name = "SerializationError";
  constructor(message: string, options: GranaryErrorOptions = {}) {
    super(ErrorCode.Serialization, message, options);
  }
}

export class InvalidEventError extends GranaryError {
  override name = "InvalidEventError";
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(
      ErrorCode.InvalidEvent,
      `event payload is not plain JSON data at ${path}: ${reason}. Events are replayed from JSON, so raise only strings, finite numbers, booleans, null, arrays and plain objects (convert a Date to an ISO string, a Map to an object)`,
      { data: { path } },
    );
  }
}

export class CorruptHistoryError extends GranaryError {
  override name = "CorruptHistoryError";
  constructor(
    readonly stream: string,
    readonly version: number,
    reason: string,
    cause?: unknown,
  ) {
    super(
      ErrorCode.CorruptHistory,
      `history of stream "${stream}" cannot be replayed at version ${version}: ${reason}. The actor was not activated; inspect it with readWithErrors()`,
      { cause, data: { stream, version } },
    );
  }
}

export class StreamPurgedError extends GranaryError {
  override name = "StreamPurgedError";
  constructor(
    readonly stream: string,
    readonly purgedAt: string,
    readonly reason: string,
  ) {
    super(
      ErrorCode.StreamPurged,
      `stream "${stream}" was purged at ${purgedAt} (${reason}); its history no longer exists and cannot be replayed`,
      { data: { stream, purgedAt, reason } },
    );
  }
}

export class ActivationFailedError extends GranaryError {
  override name = "ActivationFailedError";
  constructor(
    readonly actor: string,
    cause: unknown,
  ) {
    super(ErrorCode.ActivationFailed, `activation of ${actor} failed: ${messageOf(cause)}`, {
      cause,
      retryable: false,
      data: { actor },
    });
  }
}

export class InvalidConfigurationError extends GranaryError {
  override name = "InvalidConfigurationError";
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(ErrorCode.InvalidConfiguration, `invalid option \`${option}\`: ${problem}`, { data: { option } });
  }
}

/**
 * The store holds less than it already acknowledged: restarted from an old backup, flushed, or
 * failed over to a replica that lagged. Writing on would give the lost versions to other events, so
 * every write fails with this error until a person decides (restore the data, or accept the loss
 * and restart the processes). Not retryable.
 */
export class StoreRewoundError extends GranaryError {
  override name = "StoreRewoundError";
  constructor(
    readonly store: string,
    detail: string,
  ) {
    super(
      ErrorCode.StoreRewound,
      `${store} went back in time: ${detail}. Events it acknowledged are missing, so writing now would give their versions to other events; writes are stopped. Restore the lost data (the newest AOF/RDB, or wait for the replica that has it), or accept the loss and restart every process that uses the store`,
      { data: { store } },
    );
  }
}

export class InvalidArgumentError extends GranaryError {
  override name = "InvalidArgumentError";
  constructor(message: string, data: ErrorData = {}) {
    super(ErrorCode.InvalidArgument, message, { data });
  }
}

export class ShuttingDownError extends GranaryError {
  override name = "ShuttingDownError";
  /**
   * @param retryable true (the default) when another silo can take the call: refused at a door, a
   *   router or client retries elsewhere. False for a caller whose only way in is the closing
   *   endpoint itself (a reference of a stopping silo, a closed client): nothing ran, but retrying
   *   there can never succeed.
   */
  constructor(what: string, options: { readonly retryable?: boolean } = {}) {
    const retryable = options.retryable ?? true;
    super(
      ErrorCode.ShuttingDown,
      retryable
        ? `${what} is shutting down and accepts no new calls; nothing ran`
        : `${what} is shutting down and accepts no new calls; nothing ran, and it will not take this call later: call through another silo or a cluster client`,
      { retryable },
    );
  }
}

export class NotOwnerError extends GranaryError {
  override name = "NotOwnerError";
  constructor(readonly actor: string) {
    super(ErrorCode.NotOwner, `this silo does not own ${actor}; refresh the directory and retry`, {
      retryable: true,
      data: { actor },
    });
  }
}

export class ConnectionError extends GranaryError {
  override name = "ConnectionError";
  constructor(message: string, options: GranaryErrorOptions = {}) {
    super(ErrorCode.Connection, message, options);
  }
}

export class UnauthorizedError extends GranaryError {
  override name = "UnauthorizedError";
  constructor(message: string) {
    super(ErrorCode.Unauthorized, message);
  }
}

/**
 * The silo refused a call at its door because it is at a load limit (calls in flight per silo or per
 * connection, or an event loop lagging). The call did not run anywhere: it is safe to retry, after a
 * pause, here or on another silo.
 */
export class OverloadedError extends GranaryError {
  override name = "OverloadedError";
  constructor(
    readonly silo: string,
    readonly limit: string,
    detail: string,
  ) {
    super(
      ErrorCode.Overloaded,
      `silo ${silo} is overloaded (${detail}; limit \`${limit}\`) and shed the call: nothing ran; retry after a pause, or spread the load`,
      { retryable: true, data: { silo, limit } },
    );
  }
}

/** An idempotency key was reused for a different command (another method or other arguments). */
export class IdempotencyKeyReusedError extends GranaryError {
  override name = "IdempotencyKeyReusedError";
  constructor(
    readonly actor: string,
    readonly key: string,
    readonly firstMethod: string,
  ) {
    super(
      ErrorCode.IdempotencyConflict,
      `idempotency key ${JSON.stringify(key)} on ${actor} was first used for ${firstMethod}(...) with other arguments or another method; a key names exactly one command: use a new key for a new command`,
      { data: { actor, key, firstMethod } },
    );
  }
}

/**
 * A client found no silo to send a call to (none in membership, membership unreachable, or every
 * gateway refused the connection). Nothing was sent, so the call is safe to retry.
 */
export class NoSiloAvailableError extends GranaryError {
  override name = "NoSiloAvailableError";
  /** @param options.sent true when silos got the call but each refused it at its door (it still never ran) */
  constructor(reason: string, options: { readonly cause?: unknown; readonly sent?: boolean } = {}) {
    const sent = options.sent ?? false;
    super(
      ErrorCode.NoSiloAvailable,
      `no silo is available to take the call (${reason}); ${sent ? "it was refused and never ran" : "nothing was sent"}: start a silo or check the gateways, then retry`,
      { retryable: true, cause: options.cause, data: { sent } },
    );
  }
}

/** See {@link ErrorCode.AlreadyExecuted}. */
export class AlreadyExecutedError extends GranaryError {
  override name = "AlreadyExecutedError";
  constructor(
    readonly actor: string,
    readonly key: string,
    readonly version: number,
  ) {
    super(
      ErrorCode.AlreadyExecuted,
      `the call with idempotency key ${JSON.stringify(key)} already ran on ${actor} and committed events (up to version ${version}), but failed afterwards and its error is no longer known; it is not run again. Read the actor's history to see what it did`,
      { data: { actor, key, version } },
    );
  }
}

/** See {@link ErrorCode.ConcurrentRaise}. */
export class ConcurrentRaiseError extends GranaryError {
  override name = "ConcurrentRaiseError";
  constructor(
    readonly actor: string,
    /** "refused": raise() was refused; "discarded": a re-entrant call's throw discarded events this call may have raised. */
    readonly kind: "refused" | "discarded" = "refused",
  ) {
    super(
      ErrorCode.ConcurrentRaise,
      kind === "refused"
        ? `raise() in ${actor} was refused: two calls of the same call chain are inside this actor side by side (a fan-out that re-entered it, e.g. Promise.all over calls that call back into it), so their events could not be committed or rolled back per call. Raise only in calls that nest (A → B → A), await such calls one at a time, or raise in the outer call once they have finished`
        : `this call into ${actor} failed because a re-entrant call into the same actor threw while both were open, and its throw discarded every event raised since it began, which may include events raised here (calls of one chain cannot be told apart while they run at once). Nothing of this call after the re-entry was kept. Catch errors inside the re-entrant call, or do not raise while calls that re-enter this actor can fail`,
      { data: { actor, kind } },
    );
  }
}

/** A non-Granary error thrown inside an actor, rebuilt on the caller's side with its name and message. */
export class ActorError extends GranaryError {
  constructor(name: string, message: string, data: ErrorData = {}) {
    super(ErrorCode.ActorError, message, { data });
    this.name = name;
  }
}

/** The past cannot change: a reference bound to `asOf` runs only the class's `readOnly` methods. */
export class PastStateReadOnlyError extends GranaryError {
  override name = "PastStateReadOnlyError";
  constructor(
    readonly actorType: string,
    readonly method: string,
  ) {
    super(
      ErrorCode.PastStateReadOnly,
      `${actorType}.${method} may change state, so it cannot run against a past state (asOf); only methods listed in ${actorType}.readOnly can. Call it on a reference without asOf, or add it to readOnly if it does not raise events`,
      { data: { actorType, method } },
    );
  }
}

export class SubjectForgottenError extends GranaryError {
  override name = "SubjectForgottenError";
  constructor(
    readonly subject: string,
    readonly destroyedAt: string,
  ) {
    super(
      ErrorCode.SubjectForgotten,
      `data subject "${subject}" was forgotten at ${destroyedAt} (its key is destroyed), so no personal data can be recorded for it again; give the person a new subject id if they return`,
      { data: { subject, destroyedAt } },
    );
  }
}

/**
 * True when `error` is a Granary error (optionally with the given code). Works across processes and
 * duplicate package copies, where `instanceof` does not.
 */
export function isGranaryError(error: unknown, code?: string): error is GranaryError {
  if (typeof error !== "object" || error === null) return false;
  const candidate = error as { code?: unknown; retryable?: unknown };
  if (typeof candidate.code !== "string" || typeof candidate.retryable !== "boolean") return false;
  return code === undefined || candidate.code === code;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
