import { randomFillSync } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const HALF = 2 ** 40;
const POOL_BYTES = 4_096;

const pool = new Uint8Array(POOL_BYTES);
let poolAt = POOL_BYTES;

/** 40 random bits from a pooled buffer (one randomFillSync per ~400 milliseconds with events). */
function random40(): number {
  if (poolAt + 5 > POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  let value = 0;
  for (let i = 0; i < 5; i++) value = value * 256 + (pool[poolAt++] as number);
  return value;
}

// The id being built, as character codes: time (10), high half (8), low half (8) of the random
// part. Made into one flat string per id (String.fromCharCode), where concatenating encoded parts
// cost eight intermediate strings per id.
const codes = new Array<number>(26).fill(48);

/** Writes `count` base-32 digits of `value` (a non-negative integer below 2^53) at `start`. */
function encodeInto(value: number, start: number, count: number): void {
  for (let i = start + count - 1; i >= start; i--) {
    const digit = value % 32;
    codes[i] = ALPHABET.charCodeAt(digit);
    value = (value - digit) / 32;
  }
}

let lastTime = -1;
let high = 0;
let low = 0;

/**
 * Monotonic ULIDs for event ids: 48-bit millisecond time and 80 random bits in Crockford base 32,
 * the random part incremented within one millisecond (or while the clock is behind the last id),
 * as the `ulid` package's monotonic factory does. Built for the commit path: random bits come from
 * a pooled buffer, within a millisecond only the low 8 characters are encoded again, and the id is
 * one flat string (the package draws one random byte per character through crypto, and re-encodes
 * the time every call).
 */
export function newEventId(): string {
  const now = Date.now();
  if (now > lastTime) {
    lastTime = now;
    high = random40();
    low = random40();
    encodeInto(now, 0, 10);
    encodeInto(high, 10, 8);
  } else if (++low === HALF) {
    low = 0;
    if (++high === HALF) throw new Error("more than 2^80 event ids in one millisecond");
    encodeInto(high, 10, 8);
  }
  encodeInto(low, 18, 8);
  return String.fromCharCode.apply(null, codes);
}
