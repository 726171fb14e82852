/**
 * How reminders are spread over silos: every reminder belongs to one of a fixed number of
 * partitions (by a hash of its stream), and each partition is owned by one live silo, chosen by
 * rendezvous hashing over the live membership. Every silo computes the same owner from the same
 * member list, and when a silo joins or leaves only the partitions it wins or loses move.
 */

/** Fixed for the life of a deployment: records store their partition, so changing it would strand them. */
export const REMINDER_PARTITIONS = 64;

const PARTITION_KEY_PREFIX = "granary:reminders/";

/** Directory key of a partition: its owner registers it like an activation, which issues the fencing epoch. */
export function partitionKey(partition: number): string {
  return `${PARTITION_KEY_PREFIX}${partition}`;
}

/** The partition whose directory key is `key`; undefined for any other key. */
export function partitionOfKey(key: string): number | undefined {
  if (!key.startsWith(PARTITION_KEY_PREFIX)) return undefined;
  const digits = key.slice(PARTITION_KEY_PREFIX.length);
  return /^\d+$/.test(digits) ? Number(digits) : undefined;
}

/** FNV-1a, 32 bit: stable across processes and versions (unlike anything seeded). */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function partitionOf(stream: string, partitions = REMINDER_PARTITIONS): number {
  return hash32(stream) % partitions;
}

/** The silo that should own `partition` among `siloIds` (highest rendezvous score); undefined when none. */
export function ownerOf(partition: number, siloIds: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const siloId of siloIds) {
    const score = hash32(`${partition}:${siloId}`);
    if (score > bestScore || (score === bestScore && best !== undefined && siloId < best)) {
      best = siloId;
      bestScore = score;
    }
  }
  return best;
}
