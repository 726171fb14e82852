import { SerializationError } from "../errors.js";
import { MAX_PAYLOAD_DEPTH } from "../events/json-value.js";
import { isWellFormed } from "./actor-identity.js";

// biome-ignore lint/suspicious/noConfusingVoidType: a method returning Promise<void> must stay void, not never
type WireScalar = string | number | boolean | null | undefined | void | Date | Uint8Array;
type NotWire =
  | bigint
  | symbol
  | ((...args: never[]) => unknown)
  | ReadonlyMap<unknown, unknown>
  | ReadonlySet<unknown>
  | WeakMap<object, unknown>
  | WeakSet<object>
  | Promise<unknown>
  | Error;

/**
 * What a value of type `T` is after crossing a call boundary: call arguments and results are
 * checked as wire data (see {@link assertWireData}) on local calls too, so a type that cannot
 * cross (a Map, a Set, a function, a bigint) becomes `never`: the call fails with
 * SERIALIZATION_ERROR on every path, and the type says so. Plain objects, arrays, strings,
 * numbers, booleans, null, undefined, Dates and byte arrays pass unchanged.
 */
export type WireData<T> = 0 extends 1 & T ? T : unknown extends T ? T : WireDataOf<T>;
type WireDataOf<T> = T extends WireScalar
  ? T
  : T extends NotWire
    ? never
    : T extends object
      ? { [K in keyof T]: WireData<T[K]> }
      : never;

/**
 * Throws SERIALIZATION_ERROR unless `value` crosses the wire (msgpack) unchanged, so a call
 * behaves the same locally and remotely: undefined, null, booleans, numbers, well-formed strings,
 * Dates, byte arrays, arrays and plain objects, without cycles, at most {@link MAX_PAYLOAD_DEPTH}
 * deep. A Map would arrive as a plain object remotely while staying a Map locally, a class
 * instance would lose its prototype, a bigint its type: they are refused everywhere instead.
 * @param what names the value in the message, e.g. "the result of Account.balance".
 * @throws SerializationError
 */
export function assertWireData(value: unknown, what: string): void {
  switch (typeof value) {
    case "number":
    case "boolean":
    case "undefined":
      return;
    case "string":
      if (!isWellFormed(value)) fail(what, ["$"], "a string with a lone surrogate is not well-formed Unicode");
      return;
  }
  if (value === null) return;
  check(value, what, ["$"], []);
}

function check(value: unknown, what: string, path: (string | number)[], ancestors: object[]): void {
  switch (typeof value) {
    case "number":
    case "boolean":
    case "undefined":
      return;
    case "string":
      if (!isWellFormed(value)) fail(what, path, "a string with a lone surrogate is not well-formed Unicode");
      return;
    case "bigint":
      fail(what, path, "a bigint arrives as a number remotely (send it as a string)");
      return;
    case "function":
    case "symbol":
      fail(what, path, `a ${typeof value} cannot cross the wire`);
      return;
  }
  if (value === null || value instanceof Date || value instanceof Uint8Array) return;
  const object = value as object;
  if (ancestors.includes(object)) fail(what, path, "the value contains a cycle");
  if (ancestors.length >= MAX_PAYLOAD_DEPTH) fail(what, path, `nested deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  ancestors.push(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      path.push(i);
      check(object[i], what, path, ancestors);
      path.pop();
    }
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (object as { constructor?: { name?: string } }).constructor?.name ?? "object";
      const fix =
        object instanceof Map
          ? "use a plain object (Object.fromEntries(map)) or an array of entries"
          : object instanceof Set
            ? "use an array ([...set])"
            : "use a plain object";
      fail(what, path, `a ${kind} arrives as a plain object remotely; ${fix}`);
    }
    for (const key in object) {
      path.push(key);
      check((object as Record<string, unknown>)[key], what, path, ancestors);
      path.pop();
    }
  }
  ancestors.pop();
}

function fail(what: string, path: readonly (string | number)[], reason: string): never {
  const text = path
    .map((part, i) => (i === 0 ? String(part) : typeof part === "number" ? `[${part}]` : `.${part}`))
    .join("");
  throw new SerializationError(
    `${what} is not wire data at ${text}: ${reason}. Call arguments and results are checked the same way for local and remote calls`,
    { data: { path: text } },
  );
}
