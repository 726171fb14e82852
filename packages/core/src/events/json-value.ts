import { InvalidEventError } from "../errors.js";

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Throws {@link InvalidEventError} unless `value` survives a JSON round trip unchanged: only
 * strings, finite numbers, booleans, null, arrays and plain objects, without cycles.
 * What an actor raises must be exactly what it later replays.
 */
export function assertJsonCompatible(value: unknown, path = "$"): void {
  check(value, path, new Set());
}

function check(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) throw new InvalidEventError(path, `${value} is not a finite number`);
      return;
    case "undefined":
      throw new InvalidEventError(path, "undefined is dropped by JSON (omit the field or use null)");
    case "bigint":
      throw new InvalidEventError(path, "a bigint has no JSON form (use a string)");
    case "function":
      throw new InvalidEventError(path, "a function cannot be stored");
    case "symbol":
      throw new InvalidEventError(path, "a symbol cannot be stored");
  }
  if (value === null) return;
  const object = value as object;
  if (ancestors.has(object)) throw new InvalidEventError(path, "the value contains a cycle");
  ancestors.add(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      if (!(i in object)) throw new InvalidEventError(`${path}[${i}]`, "sparse array hole");
      check(object[i], `${path}[${i}]`, ancestors);
    }
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (object as { constructor?: { name?: string } }).constructor?.name ?? "object";
      throw new InvalidEventError(path, `a ${kind} instance is not a plain object`);
    }
    if (Object.getOwnPropertySymbols(object).length > 0) {
      throw new InvalidEventError(path, "symbol keys are dropped by JSON");
    }
    for (const key of Object.keys(object)) {
      check((object as Record<string, unknown>)[key], `${path}.${key}`, ancestors);
    }
  }
  ancestors.delete(object);
}

/** Recursively freezes plain data so accidental mutation of actor state fails loudly in development. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
