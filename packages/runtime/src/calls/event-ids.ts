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

const DIGITS = new Uint8Array(32);
for (let i = 0; i < 32; i++) DIGITS[i] = ALPHABET.charCodeAt(i);

/** `count` base-32 digits of `value` (a non-negative integer below 2^53). */
function encode(value: number, count: number): string {
  let text = "";
  for (let i = 0; i < count; i++) {
    const digit = value % 32;
    text = ALPHABET.charAt(digit) + text;
    value = (value - digit) / 32;
  }
  return text;
}

/** The last 8 digits (the low half of the random part), in one flat string without intermediates. */
function encodeLow(value: number): string {
  const d7 = value % 32;
  value = (value - d7) / 32;
  const d6 = value % 32;
  value = (value - d6) / 32;
  const d5 = value % 32;
  value = (value - d5) / 32;
  const d4 = value % 32;
  value = (value - d4) / 32;
  const d3 = value % 32;
  value = (value - d3) / 32;
  const d2 = value % 32;
  value = (value - d2) / 32;
  const d1 = value % 32;
  const d0 = (value - d1) / 32;
  return String.fromCharCode(
    DIGITS[d0] as number,
    DIGITS[d1] as number,
    DIGITS[d2] as number,
    DIGITS[d3] as number,
    DIGITS[d4] as number,
    DIGITS[d5] as number,
    DIGITS[d6] as number,
    DIGITS[d7] as number,
  );
}

let lastTime = -1;
let high = 0;
let low = 0;
/** Time and high half of the random part (18 characters): the same for every id of a millisecond. */
let prefix = "";

/**
 * Monotonic ULIDs for event ids: 48-bit millisecond time and 80 random bits in Crockford base 32,
 * the random part incremented within one millisecond (or while the clock is behind the last id),
 * as the `ulid` package's monotonic factory does. Built for the commit path: random bits come from
 * a pooled buffer, and within a millisecond only the low 8 characters are encoded again and joined
 * to the millisecond's prefix (one small string and one join per id: building all 26 characters
 * with `String.fromCharCode.apply` cost ~100 ns; the package draws one random byte per character
 * through crypto, and re-encodes the time every call).
 */
export function newEventId(): string {
  const now = Date.now();
  if (now > lastTime) {
    lastTime = now;
    high = random40();
    low = random40();
    prefix = encode(now, 10) + encode(high, 8);
  } else if (++low === HALF) {
    low = 0;
    if (++high === HALF) throw new Error("more than 2^80 event ids in one millisecond");
    prefix = encode(lastTime, 10) + encode(high, 8);
  }
  return prefix + encodeLow(low);
}
