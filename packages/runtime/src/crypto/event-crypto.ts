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
import { fieldAad, isSealedField, openField, sealField } from "./sealed-field.js";

/**
 * Encrypts the declared personal fields of events about to be appended; everything else (type,
 * other fields, metadata, version) stays as raised.
 * @throws SubjectForgottenError when an event carries personal data of a forgotten subject
 * @throws InvalidArgumentError when a rule's subject function gives no usable subject id
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
    const subject = subjectOf(rule, event);
    const subjectKeys = await keys.forWrite(subject);
    const aad = fieldAad(stream, event.id);
    const data: Record<string, JsonValue> = { ...event.data };
    for (const field of rule.fields) {
      const value = data[field];
      if (value !== undefined) data[field] = sealField(value, subject, subjectKeys, aad) as unknown as JsonValue;
    }
    sealed.push({ ...event, data: data as JsonObject });
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

/** True when the event has at least one field in the stored form of personal data. */
export function hasSealedFields(event: EventEnvelope): boolean {
  for (const key in event.data) if (isSealedField(event.data[key])) return true;
  return false;
}

/** The subjects whose keys sealed fields of the event (the `kid`s), in field order. */
export function sealedSubjects(event: EventEnvelope): string[] {
  const subjects: string[] = [];
  for (const key in event.data) {
    const value = event.data[key];
    if (isSealedField(value) && typeof value.kid === "string") subjects.push(value.kid);
  }
  return subjects;
}

/**
 * Decrypts the personal fields of a stored event; a field of a forgotten subject becomes the
 * redaction marker. Events without sealed fields are returned as they are.
 * @throws CorruptHistoryError naming stream, version and field when a field cannot be decrypted
 * (tampered, moved, malformed) or its key is missing from the key store
 */
export async function openEvent<E extends RecordedEvent>(event: E, keys: KeyCache): Promise<E> {
  if (!hasSealedFields(event)) return event;
  const aad = fieldAad(event.stream, event.id);
  const data: Record<string, JsonValue> = { ...event.data };
  for (const field in data) {
    const value = data[field];
    if (!isSealedField(value)) continue;
    const corrupt = (reason: string, cause?: unknown): CorruptHistoryError =>
      new CorruptHistoryError(
        event.stream,
        event.version,
        `personal field "${field}" of ${event.type}: ${reason}`,
        cause,
      );
    if (typeof value.kid !== "string" || value.kid === "") throw corrupt("its key id (kid) is missing");
    let state: Awaited<ReturnType<KeyCache["forRead"]>>;
    try {
      state = await keys.forRead(value.kid);
    } catch (error) {
      if (isGranaryError(error)) throw error;
      throw corrupt(`the key store failed: ${messageOf(error)}`, error);
    }
    if (state.status === "destroyed") {
      data[field] = redacted(value.kid) as unknown as JsonValue;
    } else if (state.status === "missing") {
      throw corrupt(
        `the key store has no key for subject "${value.kid}" (was the silo started with another keyStore than the one that wrote this event?)`,
      );
    } else {
      try {
        data[field] = openField(value, state.keys, aad);
      } catch (error) {
        throw corrupt(messageOf(error), error);
      }
    }
  }
  return { ...event, data: data as JsonObject };
}
