import { InvalidArgumentError } from "../errors.js";

/**
 * Actor identity rules, checked identically for local calls, calls that arrive over the wire, and
 * every store (through the stream name), so no two distinct ids can share a stream anywhere:
 *
 * - a string of well-formed Unicode: no lone surrogate (`"a\uD800"` and `"a\uDBFF"` would both become
 *   U+FFFD in UTF-8, in msgpack and in PostgreSQL, and alias one stream);
 * - no NUL character (U+0000: PostgreSQL text cannot hold it);
 * - non-empty, and at most {@link MAX_ACTOR_ID_BYTES} (ids) or {@link MAX_ACTOR_TYPE_BYTES} (types)
 *   bytes of UTF-8, so a stream name always fits a PostgreSQL index entry;
 * - an actor type also contains no `/` (it separates type and id in the stream name `Type/id`).
 */
export const MAX_ACTOR_ID_BYTES = 1024;
/** @see MAX_ACTOR_ID_BYTES */
export const MAX_ACTOR_TYPE_BYTES = 128;
/** The longest stream name an actor can have: type, `/`, id. Stores refuse longer stream names. */
export const MAX_STREAM_NAME_BYTES = MAX_ACTOR_TYPE_BYTES + 1 + MAX_ACTOR_ID_BYTES;

/** Why `text` breaks the shared text rules (well-formed, no NUL, 1..maxBytes UTF-8 bytes), or undefined. */
export function textRuleViolation(text: unknown, maxBytes: number): string | undefined {
  if (typeof text !== "string") return `must be a string, got ${text === null ? "null" : typeof text}`;
  if (text.length === 0) return "must not be empty";
  if (!isWellFormed(text)) return "must be well-formed Unicode (it contains a lone surrogate, U+D800–U+DFFF)";
  if (text.includes("\0")) return "must not contain NUL (U+0000)";
  // A UTF-16 code unit is at most 3 UTF-8 bytes (a surrogate pair is 2 units for 4 bytes).
  if (text.length * 3 > maxBytes) {
    const bytes = utf8Length(text);
    if (bytes > maxBytes) return `must be at most ${maxBytes} bytes of UTF-8, got ${bytes}`;
  }
  return undefined;
}

/** Why `id` is not a valid actor id, or undefined. */
export function actorIdViolation(id: unknown): string | undefined {
  return textRuleViolation(id, MAX_ACTOR_ID_BYTES);
}

/** Why `type` is not a valid actor type name, or undefined. */
export function actorTypeViolation(type: unknown): string | undefined {
  const problem = textRuleViolation(type, MAX_ACTOR_TYPE_BYTES);
  if (problem) return problem;
  if ((type as string).includes("/")) return 'must not contain "/" (it separates type and id in stream names)';
  if ((type as string).trim() === "") return "must not be blank";
  return undefined;
}

/**
 * Throws INVALID_ARGUMENT naming the broken rule unless `type` and `id` are a valid actor identity.
 * @throws InvalidArgumentError
 */
export function assertActorIdentity(type: unknown, id: unknown): void {
  const typeProblem = actorTypeViolation(type);
  if (typeProblem) {
    throw new InvalidArgumentError(`actor type ${describe(type)} ${typeProblem}`, { rule: "actor-type" });
  }
  const idProblem = actorIdViolation(id);
  if (idProblem) {
    throw new InvalidArgumentError(`actor id ${describe(id)} of ${type as string} ${idProblem}`, { rule: "actor-id" });
  }
}

/**
 * Throws INVALID_ARGUMENT unless `stream` is a stream name every store can hold without aliasing:
 * the actor identity rules applied to the whole name (at most {@link MAX_STREAM_NAME_BYTES} bytes).
 * @throws InvalidArgumentError
 */
export function assertStreamName(stream: unknown): void {
  const problem = textRuleViolation(stream, MAX_STREAM_NAME_BYTES);
  if (problem) throw new InvalidArgumentError(`stream name ${describe(stream)} ${problem}`, { rule: "stream-name" });
}

const LONE_SURROGATE = /\p{Surrogate}/u;
const nativeWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

/** Whether `text` has no lone surrogate (String#isWellFormed where the runtime has it, Node >= 20). */
export function isWellFormed(text: string): boolean {
  return nativeWellFormed ? nativeWellFormed.call(text) : !LONE_SURROGATE.test(text);
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      bytes += 4; // well-formed: a high surrogate is always followed by its low surrogate
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** The value for a message: JSON (escapes surrogates and NUL), cut short when long. */
function describe(value: unknown): string {
  if (typeof value !== "string") return String(value);
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 60)}…" (${value.length} characters)` : json;
}
