import { isWellFormed } from "../actor/actor-identity.js";
import { InvalidEventError } from "../errors.js";

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * How deeply payloads may nest (objects and arrays inside each other). Deeper data is refused at
 * `raise` with INVALID_EVENT instead of overflowing the stack somewhere later (a store's encoder,
 * replay). 100 levels is far beyond hand-written data.
 */
export const MAX_PAYLOAD_DEPTH = 100;

/**
 * Throws {@link InvalidEventError} unless `value` survives a JSON round trip unchanged in every
 * store: only strings, finite numbers, booleans, null, arrays and plain objects, without cycles,
 * nested at most {@link MAX_PAYLOAD_DEPTH} deep, and every string and key well-formed Unicode
 * without NUL (a lone surrogate or U+0000 cannot be stored as PostgreSQL jsonb, and a lone
 * surrogate would come back as U+FFFD from UTF-8), and no key named `__proto__`. What an actor
 * raises must be exactly what it later replays.
 */
export function assertJsonCompatible(value: unknown, path = "$"): void {
  if (isFlatJson(value)) return;
  check(value, [path], []);
}

/**
 * The common payload, checked without allocating: a scalar, or a plain object whose values are
 * scalars (what most events carry). Anything else, or anything wrong, goes to the full check,
 * which accepts or refuses exactly as it would have and names the offending path.
 */
function isFlatJson(value: unknown): boolean {
  if (typeof value !== "object") return isJsonScalar(value);
  if (value === null) return true;
  if (Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  if (Object.getOwnPropertySymbols(value).length > 0) return false;
  for (const key in value) {
    if (!isStorableText(key) || key === "__proto__") return false;
    const field = (value as Record<string, unknown>)[key];
    if (field !== null && !isJsonScalar(field)) return false;
  }
  return true;
}

function isJsonScalar(value: unknown): boolean {
  switch (typeof value) {
    case "string":
      return isStorableText(value);
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    default:
      return false;
  }
}

function isStorableText(text: string): boolean {
  return isWellFormed(text) && !text.includes("\0");
}

// The path is a stack of keys turned into text only when a check fails, and ancestors a stack
// scanned linearly: payloads are small and shallow, and raise() is on the hot path.
function check(value: unknown, path: (string | number)[], ancestors: object[]): void {
  switch (typeof value) {
    case "string":
      checkText(value, path);
      return;
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) fail(path, `${value} is not a finite number`);
      return;
    case "undefined":
      fail(path, "undefined is dropped by JSON (omit the field or use null)");
      return;
    case "bigint":
      fail(path, "a bigint has no JSON form (use a string)");
      return;
    case "function":
      fail(path, "a function cannot be stored");
      return;
    case "symbol":
      fail(path, "a symbol cannot be stored");
      return;
  }
  if (value === null) return;
  const object = value as object;
  if (ancestors.includes(object)) fail(path, "the value contains a cycle");
  if (ancestors.length >= MAX_PAYLOAD_DEPTH) {
    fail(path, `nested deeper than ${MAX_PAYLOAD_DEPTH} levels (MAX_PAYLOAD_DEPTH); flatten the data`);
  }
  ancestors.push(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      path.push(i);
      if (!(i in object)) fail(path, "sparse array hole");
      check(object[i], path, ancestors);
      path.pop();
    }
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (object as { constructor?: { name?: string } }).constructor?.name ?? "object";
      fail(path, `a ${kind} instance is not a plain object`);
    }
    if (Object.getOwnPropertySymbols(object).length > 0) fail(path, "symbol keys are dropped by JSON");
    for (const key in object) {
      path.push(key);
      checkText(key, path);
      if (key === "__proto__") fail(path, PROTO_KEY);
      check((object as Record<string, unknown>)[key], path, ancestors);
      path.pop();
    }
  }
  ancestors.pop();
}

// An own "__proto__" key is legal JSON, but msgpack decoders rename it and `Object.assign` or an
// assignment reads it as the prototype: it would not come back as it was raised.
const PROTO_KEY =
  'the key "__proto__" does not survive every decoder and copy (msgpack renames it, Object.assign sets the prototype); rename the key';

function checkText(text: string, path: (string | number)[]): void {
  if (!isWellFormed(text)) fail(path, "a string with a lone surrogate (U+D800–U+DFFF) is not well-formed Unicode");
  if (text.includes("\0")) fail(path, "a string with NUL (U+0000) cannot be stored in every store (PostgreSQL)");
}

function fail(path: readonly (string | number)[], reason: string): never {
  const text = path
    .map((part, i) => (i === 0 ? String(part) : typeof part === "number" ? `[${part}]` : `.${part}`))
    .join("");
  throw new InvalidEventError(text, reason);
}

/** Recursively freezes plain data so accidental mutation of actor state fails loudly in development. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
