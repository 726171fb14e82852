import {
  ActorError,
  CallTimeoutError,
  ConnectionError,
  DomainError,
  type ErrorData,
  GranaryError,
  isGranaryError,
  NoSiloAvailableError,
  OverloadedError,
  PastStateReadOnlyError,
  StreamPurgedError,
} from "./errors.js";

/** How an error crosses the wire: plain data, rebuilt on the caller's side. */
export interface WireError {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
  readonly data: ErrorData;
}

/** A class that can rebuild an error from its wire form; domain errors register one by name. */
export type ErrorClass = abstract new (...args: never[]) => Error;

export function toWireError(error: unknown): WireError {
  if (isGranaryError(error)) {
    return {
      name: error.name,
      code: error.code,
      message: error.message,
      retryable: error.retryable,
      data: error.data,
    };
  }
  if (error instanceof Error) {
    return { name: error.name, code: "ACTOR_ERROR", message: error.message, retryable: false, data: {} };
  }
  return { name: "Error", code: "ACTOR_ERROR", message: String(error), retryable: false, data: {} };
}

/**
 * Rebuilds an error from its wire form. Registered classes (by `name`) are revived with their
 * prototype so `instanceof` works for the caller; anything else becomes a {@link GranaryError}
 * (or {@link ActorError}) carrying the same name, code, message and data.
 */
export function fromWireError(wire: WireError, known: ReadonlyMap<string, ErrorClass> = new Map()): GranaryError {
  const revived = reviveKnown(wire, known);
  if (revived) return revived;
  if (wire.code === "ACTOR_ERROR") return new ActorError(wire.name, wire.message, wire.data);
  const error = new GranaryError(wire.code, wire.message, { retryable: wire.retryable, data: wire.data });
  error.name = wire.name;
  return error;
}

function reviveKnown(wire: WireError, known: ReadonlyMap<string, ErrorClass>): GranaryError | undefined {
  const cls = known.get(wire.name) ?? builtIn.get(wire.name);
  if (!cls) return undefined;
  // Revive without running the constructor: its parameters are not on the wire, only its fields.
  const error = Object.create(cls.prototype) as GranaryError & { -readonly [K in keyof GranaryError]: GranaryError[K] };
  Object.defineProperty(error, "message", { value: wire.message, writable: true, configurable: true });
  Object.defineProperty(error, "name", { value: wire.name, writable: true, configurable: true });
  Object.defineProperty(error, "stack", {
    value: `${wire.name}: ${wire.message}\n    at <remote actor>`,
    writable: true,
    configurable: true,
  });
  Object.assign(error, { code: wire.code, retryable: wire.retryable, data: wire.data }, wire.data);
  return error;
}

const builtIn = new Map<string, ErrorClass>([
  ["CallTimeoutError", CallTimeoutError],
  ["ConnectionError", ConnectionError],
  ["DomainError", DomainError],
  ["PastStateReadOnlyError", PastStateReadOnlyError],
  ["StreamPurgedError", StreamPurgedError],
  ["OverloadedError", OverloadedError],
  ["NoSiloAvailableError", NoSiloAvailableError],
]);
