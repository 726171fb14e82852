import {
  CorruptHistoryError,
  type EventEnvelope,
  InvalidArgumentError,
  isGranaryError,
  type JsonObject,
  type JsonValue,
  messageOf,
  type RecordedEvent,
  redacted,
} from "@granary/core";
import type { KeyCache } from "./key-cache.js";
import type { FieldRule } from "./personal-data-rules.js";
import { checkSealedShape, openFields, SEALED_KEY, sealedEntry, sealFields } from "./sealed-field.js";

/**
 * Encrypts the declared personal fields of events about to be appended (see {@link SealedFields});
 * everything else (type, other fields, metadata, version) stays as raised.
 * @throws SubjectForgottenError when an event carries personal data of a forgotten subject
 * @throws InvalidArgumentError when a rule's subject function gives no usable subject id, or the
 * payload already uses the reserved `$pii` field
 */
export async function sealEvents(
  stream: string,
  events: readonly EventEnvelope[],
  rules: ReadonlyMap<string, FieldRule>,
  keys: KeyCache,
): Promise<EventEnvelope[]> {
  const sealed: EventEnvelope[] = [];
  for (const event of events) {
    const rule = rules.get(event.type);
    if (!rule?.fields.some((field) => event.data[field] !== undefined)) {
      sealed.push(event);
      continue;
    }
    if (event.data[SEALED_KEY] !== undefined) {
      throw new InvalidArgumentError(
        `${event.type} of ${stream} has a field named "${SEALED_KEY}", which is reserved for sealed personal data; rename it`,
        { stream, type: event.type },
      );
    }
    const subject = subjectOf(rule, event);
    const subjectKeys = keys.cachedKeys(subject) ?? (await keys.forWrite(subject));
    const data: Record<string, JsonValue> = {};
    const personal: Record<string, JsonValue> = {};
    for (const [field, value] of Object.entries(event.data)) {
      if (rule.fields.includes(field)) personal[field] = value;
      else data[field] = value;
    }
    data[SEALED_KEY] = sealFields(personal, subject, subjectKeys, stream, event.id) as unknown as JsonValue;
    sealed.push({ ...event, data });
  }
  return sealed;
}

function subjectOf(rule: FieldRule, event: EventEnvelope): string {
  let subject: unknown;
  try {
    subject = rule.subject({ ...event.data, type: event.type });
  } catch (error) {
    throw new InvalidArgumentError(
      `personalData.${event.type}.subject threw for an event of ${event.stream}: ${messageOf(error)}`,
      { stream: event.stream, type: event.type },
    );
  }
  if (typeof subject !== "string" || subject === "") {
    throw new InvalidArgumentError(
      `personalData.${event.type}.subject must return a non-empty data subject id (got ${JSON.stringify(subject)}) for an event of ${event.stream}; every event with personal fields needs the id of the person they belong to`,
      { stream: event.stream, type: event.type },
    );
  }
  return subject;
}

/** The subject whose key sealed the event's personal fields (its `kid`), if it has any. */
export function sealedSubject(event: EventEnvelope): string | undefined {
  const kid = sealedEntry(event.data)?.kid;
  return typeof kid === "string" ? kid : undefined;
}

/**
 * Decrypts the personal fields of a stored event back into its payload; the fields of a forgotten
 * subject become the redaction marker. Events without sealed fields are returned as they are.
 * @throws CorruptHistoryError naming stream and version when the fields cannot be decrypted
 * (tampered, moved, malformed) or their key is missing from the key store
 */
export async function openEvent<E extends RecordedEvent>(event: E, keys: KeyCache): Promise<E> {
  const sealed = sealedEntry(event.data);
  if (!sealed) return event;
  const corrupt = (reason: string, cause?: unknown): CorruptHistoryError =>
    new CorruptHistoryError(
      event.stream,
      event.version,
      `personal fields ${JSON.stringify(sealed.fields)} of ${event.type}: ${reason}`,
      cause,
    );
  const shapeProblem = checkSealedShape(sealed);
  if (shapeProblem) throw corrupt(shapeProblem);
  let state: Awaited<ReturnType<KeyCache["forRead"]>>;
  try {
    state = await keys.forRead(sealed.kid);
  } catch (error) {
    if (isGranaryError(error)) throw error;
    throw corrupt(`the key store failed: ${messageOf(error)}`, error);
  }
  let values: JsonObject;
  if (state.status === "destroyed") {
    const marker = redacted(sealed.kid) as unknown as JsonValue;
    values = Object.fromEntries(sealed.fields.map((field) => [field, marker]));
  } else if (state.status === "missing") {
    throw corrupt(
      `the key store has no key for subject "${sealed.kid}" (was the silo started with another keyStore than the one that wrote this event?)`,
    );
  } else {
    try {
      values = openFields(sealed, state.keys, event.stream, event.id);
    } catch (error) {
      throw corrupt(messageOf(error), error);
    }
  }
  const { [SEALED_KEY]: _sealed, ...rest } = event.data;
  return { ...event, data: { ...rest, ...values } };
}
