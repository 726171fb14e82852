import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";
import type { JsonObject, JsonValue } from "@granary/core";
import type { SubjectCipherKeys } from "./key-cache.js";

/** The payload key under which an event's personal fields are stored, sealed. */
export const SEALED_KEY = "$pii";

/**
 * How an event's personal fields are stored (format version 1): taken out of the payload and kept,
 * encrypted together with AES-256-GCM under their data subject's key, in one `$pii` entry. The
 * other fields stay as they were.
 *
 * ```json
 * { "customerId": "cust-7", "plan": "gold",
 *   "$pii": { "v": 1, "kid": "cust-7", "fields": ["name", "email"], "iv": "…", "ct": "…", "tag": "…" } }
 * ```
 * - `kid`: the data subject, which is also the key's id in the key store; `fields`: the names of
 *   the sealed fields (not personal), so a forgotten subject's fields can be shown redacted.
 * - `iv` (12 bytes), `ct`, `tag` (16 bytes): base64. The plaintext is the JSON object of the fields.
 * - The additional authenticated data binds the ciphertext to its stream, event id and field list,
 *   so a ciphertext copied into another event, or a field list edited, fails authentication.
 * - The IV is synthetic (HMAC of the AAD and plaintext under a key of its own): the same event
 *   seals to the same bytes, so an idempotent re-send of an append stays a no-op, and an IV can
 *   only repeat for identical input.
 * One AES-GCM operation per event, however many fields it declares.
 */
export interface SealedFields {
  readonly v: 1;
  readonly kid: string;
  readonly fields: readonly string[];
  readonly iv: string;
  readonly ct: string;
  readonly tag: string;
}

export const SEALED_FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The sealed entry of a stored payload, if it has one (any format version). */
export function sealedEntry(data: JsonObject): SealedFields | undefined {
  const entry = data[SEALED_KEY];
  return typeof entry === "object" && entry !== null && !Array.isArray(entry)
    ? (entry as unknown as SealedFields)
    : undefined;
}

function aadOf(stream: string, eventId: string, fields: readonly string[]): Buffer {
  return Buffer.from(`granary:pii:1\u0000${stream}\u0000${eventId}\u0000${fields.join("\u0000")}`);
}

/** Encrypts `values` (the personal fields of one event) under their subject's keys. */
export function sealFields(
  values: JsonObject,
  subject: string,
  keys: SubjectCipherKeys,
  stream: string,
  eventId: string,
): SealedFields {
  const fields = Object.keys(values);
  const aad = aadOf(stream, eventId, fields);
  const plaintext = Buffer.from(JSON.stringify(values));
  const iv = createHmac("sha256", keys.iv).update(aad).update(plaintext).digest().subarray(0, IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", keys.enc, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ct = cipher.update(plaintext);
  // GCM is a stream mode: final() adds no bytes, it computes the tag.
  cipher.final();
  return {
    v: 1,
    kid: subject,
    fields,
    iv: iv.toString("base64"),
    ct: ct.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
  };
}

/**
 * Decrypts a sealed entry back into its fields.
 * @throws Error with the reason when the format is unknown or malformed, or authentication fails
 * (tampered ciphertext, wrong key, moved from another event); callers turn it into CorruptHistoryError.
 */
export function openFields(sealed: SealedFields, keys: SubjectCipherKeys, stream: string, eventId: string): JsonObject {
  if (sealed.v !== SEALED_FORMAT_VERSION) throw new Error(`unknown sealed format ${String(sealed.v)}`);
  const iv = decodeBase64(sealed.iv, "iv");
  const tag = decodeBase64(sealed.tag, "tag");
  const ct = decodeBase64(sealed.ct, "ct");
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error("malformed sealed entry (iv or tag length)");
  const decipher = createDecipheriv("aes-256-gcm", keys.enc, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aadOf(stream, eventId, sealed.fields));
  decipher.setAuthTag(tag);
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    throw new Error(
      "authentication failed: the ciphertext or field list was altered, moved from another event, or sealed under another key",
    );
  }
  const values = JSON.parse(plaintext.toString("utf8")) as JsonValue;
  if (typeof values !== "object" || values === null || Array.isArray(values))
    throw new Error("sealed fields are not an object");
  return values;
}

/** Checks the shape of a sealed entry's clear parts. */
export function checkSealedShape(sealed: SealedFields): string | undefined {
  if (typeof sealed.kid !== "string" || sealed.kid === "") return "its key id (kid) is missing";
  if (!Array.isArray(sealed.fields) || !sealed.fields.every((f) => typeof f === "string"))
    return "its field list is malformed";
  return undefined;
}

export function decodeBase64(value: unknown, what: string): Buffer {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new Error(`malformed sealed value (${what} is not base64)`);
  }
  return Buffer.from(value, "base64");
}
