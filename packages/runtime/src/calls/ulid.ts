import { randomFillSync } from "node:crypto";

/** Crockford's base 32, as the ULID spec uses it. */
const ENCODING = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TIME_LEN = 10;
const RANDOM_LEN = 16;
const TIME_MAX = 2 ** 48 - 1;

/**
 * A monotonic ULID factory (https://github.com/ulid/spec), like `monotonicFactory()` of the `ulid`
 * package and with the same output: 10 characters of millisecond time, 16 of randomness, and
 * within one millisecond (or when the clock goes back) the previous id's random part plus one, so
 * ids sort in the order they were made. Made for the commit path, where every event gets one:
 * randomness is drawn in 4 KiB blocks instead of a `crypto` call per character, the time part is
 * encoded once per millisecond, and the id is built as one flat string.
 *
 * @throws Error when 2^80 ids were made in one millisecond (the random part cannot grow)
 */
export function ulidFactory(now: () => number = Date.now): () => string {
  const pool = new Uint8Array(4096);
  let poolAt = pool.length;
  // Character codes of the id being built: the time part, then the random part as base-32 digits.
  const codes = new Array<number>(TIME_LEN + RANDOM_LEN).fill(48);
  const digits = new Uint8Array(RANDOM_LEN);
  let lastTime = Number.NEGATIVE_INFINITY;

  const freshRandom = (): void => {
    if (poolAt + RANDOM_LEN > pool.length) {
      randomFillSync(pool);
      poolAt = 0;
    }
    for (let i = 0; i < RANDOM_LEN; i++) {
      const digit = (pool[poolAt++] as number) & 31; // 256 is a multiple of 32: uniform
      digits[i] = digit;
      codes[TIME_LEN + i] = ENCODING.charCodeAt(digit);
    }
  };

  const increment = (): void => {
    for (let i = RANDOM_LEN - 1; i >= 0; i--) {
      const digit = (digits[i] as number) + 1;
      if (digit < 32) {
        digits[i] = digit;
        codes[TIME_LEN + i] = ENCODING.charCodeAt(digit);
        return;
      }
      digits[i] = 0;
      codes[TIME_LEN + i] = 48; // "0"
    }
    throw new Error("cannot make another ULID in this millisecond: the random part overflowed");
  };

  return () => {
    const time = now();
    if (time > lastTime) {
      if (!Number.isInteger(time) || time < 0 || time > TIME_MAX) throw new Error(`ULID time out of range: ${time}`);
      lastTime = time;
      let rest = time;
      for (let i = TIME_LEN - 1; i >= 0; i--) {
        codes[i] = ENCODING.charCodeAt(rest % 32);
        rest = Math.floor(rest / 32);
      }
      freshRandom();
    } else {
      increment();
    }
    return String.fromCharCode.apply(null, codes);
  };
}
