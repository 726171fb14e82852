import { assertStreamName, isWellFormed } from "../actor/actor-identity.js";
import { InvalidArgumentError, InvalidEventError } from "../errors.js";
import type { EventEnvelope } from "../events/envelope.js";
import { assertJsonCompatible } from "../events/json-value.js";
import type { AppendOptions } from "../ports/event-store.js";

/**
 * Checks what every store requires of an append before touching storage: a valid stream name (the
 * actor identity rules: well-formed Unicode, no NUL, at most MAX_STREAM_NAME_BYTES), a non-empty
 * batch of events of this stream, numbered expectedVersion + 1, + 2, ... with distinct ids, payloads
 * every store can hold unchanged (the `raise` check: plain JSON, depth limit, well-formed strings
 * without NUL), and a fencing epoch (when given) that is an integer >= 0. So every store refuses
 * the same appends with the same typed errors, before a database can answer with its own.
 */
export function validateAppend(
  stream: string,
  expectedVersion: number,
  events: readonly EventEnvelope[],
  options: AppendOptions = {},
): void {
  assertStreamName(stream);
  if (!Number.isInteger(expectedVersion) || expectedVersion < 0) {
    throw new InvalidArgumentError(
      `expectedVersion must be an integer >= 0 (0 = empty stream), got ${expectedVersion}`,
      {
        stream,
      },
    );
  }
  const { epoch } = options;
  if (epoch !== undefined && (!Number.isSafeInteger(epoch) || epoch < 0)) {
    throw new InvalidArgumentError(`epoch must be an integer >= 0, got ${epoch}`, { stream });
  }
  if (events.length === 0) throw new InvalidArgumentError(`append to "${stream}" has no events`, { stream });
  const ids = new Set<string>();
  events.forEach((event, i) => {
    if (event.stream !== stream) {
      throw new InvalidArgumentError(`event ${event.id} belongs to stream "${event.stream}", not "${stream}"`, {
        stream,
      });
    }
    if (event.version !== expectedVersion + i + 1) {
      throw new InvalidArgumentError(
        `event ${i} of the append to "${stream}" has version ${event.version}; expected ${expectedVersion + i + 1} (versions follow expectedVersion without gaps)`,
        { stream },
      );
    }
    if (typeof event.id !== "string" || event.id.length === 0 || ids.has(event.id)) {
      throw new InvalidArgumentError(`event ids in one append must be distinct non-empty strings ("${event.id}")`, {
        stream,
      });
    }
    ids.add(event.id);
    assertStoredText(event.type, "$.type");
    assertJsonCompatible(event.data, "$.data");
    for (const [key, value] of Object.entries(event.metadata ?? {})) {
      if (typeof value === "string") assertStoredText(value, `$.metadata.${key}`);
    }
  });
}

function assertStoredText(text: unknown, path: string): void {
  if (typeof text !== "string" || text.length === 0) throw new InvalidEventError(path, "must be a non-empty string");
  if (!isWellFormed(text))
    throw new InvalidEventError(path, "a lone surrogate (U+D800–U+DFFF) is not well-formed Unicode");
  if (text.includes("\0"))
    throw new InvalidEventError(path, "NUL (U+0000) cannot be stored in every store (PostgreSQL)");
}

/** Whether a stored event and a re-sent one are the same write (idempotent re-send). */
export function sameEventContent(stored: EventEnvelope, resent: EventEnvelope): boolean {
  return (
    stored.id === resent.id &&
    stored.stream === resent.stream &&
    stored.version === resent.version &&
    stored.type === resent.type &&
    stored.schemaVersion === resent.schemaVersion &&
    canonicalJson(stored.data) === canonicalJson(resent.data) &&
    canonicalJson(stored.metadata) === canonicalJson(resent.metadata)
  );
}

/** JSON with sorted keys, so content comparison ignores key order (jsonb reorders keys). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}
