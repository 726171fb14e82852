import { ConnectionError, decode, type WireError } from "@granary/core";
import { Unpackr } from "msgpackr";

/** Version of the frame vocabulary below; both ends must speak the same one. */
export const PROTOCOL_VERSION = 1;

/** Frame body types: a msgpack array whose first element is one of these. */
export const MessageType = {
  /** [0, callId, payload]: expects a Response or ErrorResponse with the same id. */
  Request: 0,
  /**
   * [1, callId, value, ownerHint?]: `ownerHint` ("host:port") names the silo where an actor call
   * ran when the answering silo forwarded it, or ran a call another silo forwarded to it; callers
   * that ignore it lose nothing but the chance to call the owner directly next time.
   */
  Response: 1,
  /** [2, callId, wireError, ownerHint?] */
  ErrorResponse: 2,
  /** [3, payload]: no answer. */
  OneWay: 3,
  /** [4]: the sender is closing; send no new requests, and answer with GoAway to acknowledge. */
  GoAway: 4,
  /** [10, version, serverNonce, maxFrameBytes, authenticated]: server's first frame. */
  Hello: 10,
  /** [11, version, clientNonce, role, id, proof | null, maxFrameBytes]: client's answer. */
  Auth: 11,
  /** [12, id, role, proof | null]: server accepted the client and proves the key in turn. */
  Welcome: 12,
  /** [13, reason]: server refused the client; the socket closes after it. */
  Reject: 13,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export function unexpectedMessage(type: unknown): ConnectionError {
  return protocolError(`unexpected message type ${String(type)}`);
}

/** Decodes a frame into an array, or throws a ConnectionError. */
export function decodeArray(body: Buffer): unknown[] {
  let value: unknown;
  try {
    value = decode(body);
  } catch (cause) {
    throw notMsgpack(cause);
  }
  return messageArray(value);
}

/**
 * Frames are encoded by `@granary/core`'s codec; this decodes them with the same options, but in
 * place: `source[start, end)` is read where it is (msgpackr caches one DataView per source buffer,
 * so a socket chunk of many frames costs one, instead of a view Buffer and a DataView per frame).
 * Keep the options equal to core's codec (codec.ts): protocol.test.ts checks they decode alike.
 */
const inPlace = new Unpackr({ useRecords: false, moreTypes: false, int64AsType: "number" });
const range = { start: 0, end: 0 };

/** {@link decodeArray} of the frame at `source[start, end)`, without copying or slicing it. */
export function decodeArrayAt(source: Buffer, start: number, end: number): unknown[] {
  let value: unknown;
  range.start = start;
  range.end = end;
  try {
    // An empty range would read to the end of `source` (msgpackr treats end 0 as "no end").
    if (end <= start) throw new RangeError("empty frame");
    value = inPlace.unpack(source, range);
  } catch (cause) {
    throw notMsgpack(cause);
  }
  return messageArray(value);
}

function messageArray(value: unknown): unknown[] {
  if (!Array.isArray(value) || value.length === 0) throw protocolError("frame is not a message array");
  return value;
}

function notMsgpack(cause: unknown): ConnectionError {
  return new ConnectionError("peer sent a frame that is not valid msgpack; disconnected", { cause });
}

export function protocolError(problem: string): ConnectionError {
  return new ConnectionError(`peer broke the transport protocol (${problem}); disconnected`);
}

/** The call id of a Request, Response or ErrorResponse, or a protocol error. */
export function callIdOf(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) throw protocolError("bad call id");
  return value;
}

/** The owner hint of a Response or ErrorResponse (its fourth element), when it is a string. */
export function ownerHintOf(frame: readonly unknown[]): string | undefined {
  const hint = frame[3];
  return typeof hint === "string" ? hint : undefined;
}

/** The error of an ErrorResponse, or a protocol error. */
export function wireErrorOf(value: unknown): WireError {
  if (typeof value !== "object" || value === null) throw protocolError("bad error response");
  const w = value as Partial<Record<keyof WireError, unknown>>;
  if (typeof w.name !== "string" || typeof w.code !== "string" || typeof w.message !== "string") {
    throw protocolError("bad error response");
  }
  const data = typeof w.data === "object" && w.data !== null ? (w.data as WireError["data"]) : {};
  return { name: w.name, code: w.code, message: w.message, retryable: w.retryable === true, data };
}
