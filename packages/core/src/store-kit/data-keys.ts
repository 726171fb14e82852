import { InvalidArgumentError } from "../errors.js";
import { DATA_KEY_BYTES } from "../ports/key-store.js";

/** Longest accepted subject id: subject ids are opaque ids (e.g. a customer id), never personal data. */
export const MAX_SUBJECT_LENGTH = 512;

/** A fresh random data key from the platform's CSPRNG (Web Crypto, global in Node >= 20). */
export function newDataKey(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(DATA_KEY_BYTES));
}

/**
 * Checks a subject id before a key store uses it.
 * @throws InvalidArgumentError for an empty, non-string or over-long subject
 */
export function assertSubject(subject: unknown): asserts subject is string {
  if (typeof subject !== "string" || subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) {
    throw new InvalidArgumentError(
      `a data subject id must be a non-empty string of at most ${MAX_SUBJECT_LENGTH} characters (got ${typeof subject === "string" ? `${subject.length} characters` : typeof subject}); use an opaque id such as a customer id`,
      { subject: typeof subject === "string" ? subject.slice(0, 64) : String(subject) },
    );
  }
}
