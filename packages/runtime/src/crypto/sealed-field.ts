import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";
import type { JsonValue } from "@granary/core";
import type { SubjectCipherKeys } from "./key-cache.js";

/**
 * How a personal field is stored (format version 1): the field's JSON, encrypted with AES-256-GCM
 * under its data subject's key, in place of the value.
 *
 * ```json
 * { "$pii": 1, "kid": "cust-7", "iv": "<12 bytes, base64>", "ct": "<base64>", "tag": "<16 bytes, base64>" }
 * ```
 * - `kid`: the data subject, which is also the key's id in the key store.
 * - The additional authenticated data binds the ciphertext to its stream and event id, so a
 *   ciphertext copied into another event fails authentication instead of decrypting there.
 * - The IV is synthetic (HMAC of the AAD and plaintext under a key of its own): the same event
 *   encrypts to the same bytes, so an idempotent re-send of an append stays a no-op, and an IV can
 *   only repeat for identical input.
 */
export interface SealedField {
  readonly $pii: 1;
  readonly kid: string;
  readonly iv: string;
  readonly ct: string;
  readonly tag: string;
}

export const SEALED_FIELD_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** True for a value in the stored form of a personal field (any format version). */
export function isSealedField(value: unknown): value is SealedField {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "$pii" in value;
}

export function fieldAad(stream: string, eventId: string): Buffer {
  return Buffer.from(`granary:pii:1\u0000${stream}\u0000${eventId}`);
}

/** Encrypts one field's value under its subject's key. */
export function sealField(value: JsonValue, subject: string, keys: SubjectCipherKeys, aad: Buffer): SealedField {
  const plaintext = Buffer.from(JSON.stringify(value));
  const iv = createHmac("sha256", keys.iv).update(aad).update(plaintext).digest().subarray(0, IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", keys.enc, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    $pii: 1,
    kid: subject,
    iv: iv.toString("base64"),
    ct: ct.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
  };
}

/**
 * Decrypts one sealed field.
 * @throws Error with the reason when the format is unknown or authentication fails (tampered
 * ciphertext, wrong key, or moved to another event); callers turn it into CorruptHistoryError.
 */
export function openField(sealed: SealedField, keys: SubjectCipherKeys, aad: Buffer): JsonValue {
  if (sealed.$pii !== SEALED_FIELD_VERSION) throw new Error(`unknown sealed field format ${String(sealed.$pii)}`);
  const iv = decodeBase64(sealed.iv, "iv");
  const tag = decodeBase64(sealed.tag, "tag");
  const ct = decodeBase64(sealed.ct, "ct");
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error("malformed sealed field (iv or tag length)");
  const decipher = createDecipheriv("aes-256-gcm", keys.enc, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    throw new Error(
      "authentication failed: the ciphertext was altered, moved from another event, or sealed under another key",
    );
  }
  return JSON.parse(plaintext.toString("utf8")) as JsonValue;
}

export function decodeBase64(value: unknown, what: string): Buffer {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new Error(`malformed sealed value (${what} is not base64)`);
  }
  return Buffer.from(value, "base64");
}
