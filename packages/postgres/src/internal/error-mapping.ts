import {
  ConnectionError,
  FencedWriteError,
  IdempotencyConflictError,
  InvalidArgumentError,
  StreamPurgedError,
  VersionConflictError,
} from "@granary/core";
import { SqlState } from "./schema-sql.js";

/** The fields of a pg DatabaseError that the mapping reads. */
interface PgError {
  readonly code?: string;
  readonly detail?: string;
  readonly constraint?: string;
  readonly message?: string;
}

export interface AppendContext {
  readonly stream: string;
  readonly expectedVersion: number;
  readonly epoch: number | undefined;
}

/**
 * Errors that leave the connection in a known state: raised by Granary's functions outside the
 * feed critical section, the unique-id violation of the INSERT after it, or a payload the server
 * rejected before the function ran. Any other error may have interrupted the critical section, so
 * the connection is discarded, which releases its advisory lock.
 */
export function isCleanAppendError(error: unknown): boolean {
  const code = (error as PgError).code;
  return (
    code === SqlState.VersionConflict ||
    code === SqlState.FencedWrite ||
    code === SqlState.IdempotencyConflict ||
    code === SqlState.StreamPurged ||
    code === SqlState.NotFirstWrite ||
    code === "23505" ||
    code === "22P05" ||
    code === "22007" ||
    code === "22008"
  );
}

/** The Granary error for a failed `append` call, or undefined when it is not one Granary raises. */
export function appendError(error: unknown, context: AppendContext): Error | undefined {
  const pgError = error as PgError;
  const detail = parseDetail(pgError.detail);
  switch (pgError.code) {
    case SqlState.VersionConflict:
      return new VersionConflictError(context.stream, context.expectedVersion, Number(detail.actualVersion));
    case SqlState.FencedWrite:
      return new FencedWriteError(context.stream, context.epoch ?? 0, Number(detail.currentEpoch));
    case SqlState.IdempotencyConflict:
      return new IdempotencyConflictError(context.stream, String(detail.eventId));
    case SqlState.StreamPurged:
      return new StreamPurgedError(context.stream, String(detail.purgedAt), String(detail.reason));
    case "22P05":
      return new InvalidArgumentError(
        `an event of the append to "${context.stream}" holds text PostgreSQL cannot store in jsonb (the \\u0000 character): ${pgError.message}`,
        { stream: context.stream },
      );
    case "22007":
    case "22008":
      return new InvalidArgumentError(
        `an event of the append to "${context.stream}" has a timestamp PostgreSQL cannot read (use an ISO 8601 string): ${pgError.message}`,
        { stream: context.stream },
      );
    default:
      return undefined;
  }
}

/** A Postgres unique violation on the event id: the caller looks up which id it was. */
export function isDuplicateEventId(error: unknown): boolean {
  const pgError = error as PgError;
  return pgError.code === "23505" && pgError.constraint === "events_id_key";
}

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EHOSTUNREACH", "EPIPE"]);

/**
 * Network failures and server shutdowns become ConnectionError (the call may be retried); every
 * other error is returned unchanged.
 */
export function connectionError(error: unknown, where: string): unknown {
  const pgError = error as PgError;
  const code = pgError.code ?? "";
  const lost =
    CONNECTION_CODES.has(code) ||
    code.startsWith("08") ||
    code === "57P01" ||
    code === "57P02" ||
    code === "57P03" ||
    /Connection terminated|connection timeout|Client has encountered a connection error/i.test(pgError.message ?? "");
  if (!lost) return error;
  return new ConnectionError(
    `PostgreSQL at ${where} is unreachable or closed the connection (${pgError.message ?? code}); check \`connectionString\` and that the server is up`,
    { cause: error, retryable: true },
  );
}

function parseDetail(detail: string | undefined): Record<string, unknown> {
  if (!detail) return {};
  try {
    return JSON.parse(detail) as Record<string, unknown>;
  } catch {
    return {};
  }
}
