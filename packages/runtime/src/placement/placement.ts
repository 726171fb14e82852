import { InvalidConfigurationError } from "@granary/core";

/** What a placement strategy decides from. */
export interface PlacementRequest {
  readonly actorKey: string;
  /** The silo deciding (the gateway or the calling silo). */
  readonly self: string;
  /** True when the call comes from an actor's turn on this silo, not from a client. */
  readonly fromActor: boolean;
  /** Live silo ids, never empty (self is live while it serves). */
  readonly live: readonly string[];
}

/** Chooses the silo on which an actor with no live activation is activated. */
export interface PlacementStrategy {
  readonly name: string;
  place(request: PlacementRequest): string;
}

/**
 * The default, as in Orleans: a client's call activates the actor on a random live silo (load
 * spreads evenly); a call from inside a silo activates it locally (no extra hop for chatty actors).
 */
export const randomPlacement: PlacementStrategy = {
  name: "random",
  place({ self, fromActor, live }) {
    if (fromActor && live.includes(self)) return self;
    return live[Math.floor(Math.random() * live.length)] as string;
  },
};

/** Always the deciding silo. */
export const localPlacement: PlacementStrategy = {
  name: "local",
  place: ({ self }) => self,
};

/**
 * Rendezvous (highest-random-weight) hashing of the actor key over live silos: the same actor maps
 * to the same silo from everywhere, and a membership change moves only the actors of the silo that
 * came or went.
 */
export const hashPlacement: PlacementStrategy = {
  name: "hash",
  place({ actorKey, live }) {
    let best = live[0] as string;
    let bestScore = -1;
    for (const silo of live) {
      const score = fnv1a(`${silo}\u0000${actorKey}`);
      if (score > bestScore || (score === bestScore && silo < best)) {
        best = silo;
        bestScore = score;
      }
    }
    return best;
  },
};

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // Final avalanche so similar keys spread.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return hash >>> 0;
}

export type PlacementOption = "random" | "local" | "hash" | PlacementStrategy;

export function resolvePlacement(option: PlacementOption | undefined): PlacementStrategy {
  if (option === undefined || option === "random") return randomPlacement;
  if (option === "local") return localPlacement;
  if (option === "hash") return hashPlacement;
  if (typeof option === "object" && typeof option.place === "function") return option;
  throw new InvalidConfigurationError(
    "placement",
    `must be "random", "local", "hash" or a PlacementStrategy, got ${String(option)}`,
  );
}
