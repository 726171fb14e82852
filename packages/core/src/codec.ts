import { Packr } from "msgpackr";
import { SerializationError } from "./errors.js";

/**
 * The wire and snapshot codec: msgpackr with plain maps (no record extension), so any peer can
 * decode without shared structure state. `undefined` and Dates survive msgpack; classes do not.
 */
const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: "number" });

export function encode(value: unknown): Buffer {
  try {
    return packr.pack(value);
  } catch (cause) {
    throw new SerializationError(`value cannot be encoded with msgpack: ${(cause as Error).message}`, { cause });
  }
}

export function decode<T = unknown>(bytes: Uint8Array): T {
  try {
    return packr.unpack(bytes) as T;
  } catch (cause) {
    throw new SerializationError(`bytes are not valid msgpack: ${(cause as Error).message}`, { cause });
  }
}
