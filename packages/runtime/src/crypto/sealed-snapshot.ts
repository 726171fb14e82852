import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import type { JsonValue } from "@granary/core";
import type { SubjectCipherKeys } from "./key-cache.js";
import { decodeBase64 } from "./sealed-field.js";

/**
 * How the state of a snapshot that involves personal data is stored (format version 1). The state
 * is encrypted (AES-256-GCM) under a key derived (HKDF-SHA256, fresh salt) from the snapshot keys
 * of EVERY subject whose personal fields the stream holds up to the snapshot's version: destroying
 * any one of those keys makes the whole snapshot unreadable. The state is a fold of all events, so
 * it cannot be split by subject; this is what keeps a forgotten subject's data out of it.
 *
 * ```json
 * { "$piiSnapshot": 1, "subjects": ["cust-7", "cust-9"], "salt": "…", "iv": "…", "ct": "…", "tag": "…" }
 * ```
 */
export interface SealedSnapshot {
  readonly $piiSnapshot: 1;
  /** Sorted, without duplicates: the order of the key material. */
  readonly subjects: readonly string[];
  readonly salt: string;
  readonly iv: string;
  readonly ct: string;
  readonly tag: string;
}

export function isSealedSnapshot(value: unknown): value is SealedSnapshot {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "$piiSnapshot" in value;
}

function snapshotKey(keys: readonly SubjectCipherKeys[], salt: Buffer): Buffer {
  const material = Buffer.concat(keys.map((k) => k.snapshot));
  return Buffer.from(hkdfSync("sha256", material, salt, "granary/snapshot-state/1", 32));
}

function snapshotAad(stream: string, version: number, snapshotVersion: number, subjects: readonly string[]): Buffer {
  return Buffer.from(
    `granary:snapshot:1\u0000${stream}\u0000${version}\u0000${snapshotVersion}\u0000${subjects.join("\u0000")}`,
  );
}

/** `keys` in the order of `subjects` (sorted). */
export function sealSnapshot(
  state: JsonValue,
  stream: string,
  version: number,
  snapshotVersion: number,
  subjects: readonly string[],
  keys: readonly SubjectCipherKeys[],
): SealedSnapshot {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", snapshotKey(keys, salt), iv);
  cipher.setAAD(snapshotAad(stream, version, snapshotVersion, subjects));
  const ct = Buffer.concat([cipher.update(JSON.stringify(state)), cipher.final()]);
  return {
    $piiSnapshot: 1,
    subjects,
    salt: salt.toString("base64"),
    iv: iv.toString("base64"),
    ct: ct.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
  };
}

/** @throws Error when the format is unknown or authentication fails */
export function openSnapshot(
  sealed: SealedSnapshot,
  stream: string,
  version: number,
  snapshotVersion: number,
  keys: readonly SubjectCipherKeys[],
): JsonValue {
  if (sealed.$piiSnapshot !== 1) throw new Error(`unknown sealed snapshot format ${String(sealed.$piiSnapshot)}`);
  const decipher = createDecipheriv(
    "aes-256-gcm",
    snapshotKey(keys, decodeBase64(sealed.salt, "salt")),
    decodeBase64(sealed.iv, "iv"),
  );
  decipher.setAAD(snapshotAad(stream, version, snapshotVersion, sealed.subjects));
  decipher.setAuthTag(decodeBase64(sealed.tag, "tag"));
  const plaintext = Buffer.concat([decipher.update(decodeBase64(sealed.ct, "ct")), decipher.final()]);
  return JSON.parse(plaintext.toString("utf8")) as JsonValue;
}
