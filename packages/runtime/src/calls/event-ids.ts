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

/** `digits` Crockford base-32 characters of a non-negative integer below 2^53. */
function encode(value: number, digits: number): string {
  let text = "";
  for (let i = 0; i < digits; i++) {
    const digit = value % 32;
    text = ALPHABET[digit] + text;
    value = (value - digit) / 32;
  }
  return text;
}

let lastTime = -1;
let high = 0;
let low = 0;
/** Time and the high half of the random part, which change once per millisecond. */
let prefix = "";

/**
 * Monotonic ULIDs for event ids: 48-bit millisecond time and 80 random bits in Crockford base 32,
 * the random part incremented within one millisecond (or while the clock is behind the last id),
 * as the `ulid` package's monotonic factory does. Built for the commit path: random bits come from
 * a pooled buffer, and within a millisecond only the low 8 characters are encoded again (the
 * package draws one random byte per character through crypto, and re-encodes the time every call).
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
  return prefix + encode(low, 8);
}
