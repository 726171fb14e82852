import { randomUUID } from "node:crypto";
import { StoreRewoundError } from "@granary/core";
import type { RedisConnection } from "./connection.js";
import { LuaScript } from "./lua-script.js";

/**
 * KEYS: generation, position counter. ARGV: a fresh generation id.
 * Creates the namespace's generation marker if it is missing; returns {generation, position}.
 */
const INIT_GENERATION = new LuaScript(
  "granary-init-generation",
  `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]) or '0'}
`,
);

/** KEYS: generation, position counter. ARGV: expected generation, highest position seen. */
const CHECK_GENERATION = new LuaScript(
  "granary-check-generation",
  `
local current = redis.call('GET', KEYS[1])
local top = tonumber(redis.call('GET', KEYS[2]) or '0')
if current ~= ARGV[1] or top < tonumber(ARGV[2]) then return {'rewound', current or '', top} end
return {'ok'}
`,
);

/**
 * Detects a Redis that went back in time under a running store: restarted from an old RDB/AOF,
 * flushed, or failed over to a replica that had not received the latest writes. Either would let
 * the store hand out again versions and feed positions it already acknowledged for other events.
 *
 * Two marks, checked atomically inside every write script:
 * - the namespace's **generation**: a random id created once (SET NX) and read when the store
 *   starts; gone or different after FLUSHALL or a restore from before it existed;
 * - the **highest feed position this store has seen** (at start, from every append and read): the
 *   position counter never decreases, so a lower counter means acknowledged events are gone.
 *
 * Once detected, the guard latches: every later write fails with the same StoreRewoundError until
 * the process restarts (after a person decided what to do about the lost events). A process that
 * starts after the loss cannot know what it never saw: run Redis with AOF and replicas that
 * acknowledge (`WAIT`/`min-replicas-to-write`) so the loss does not happen.
 */
export class StoreGenerationGuard {
  #generation: string | undefined;
  #seen = 0;
  #rewound: StoreRewoundError | undefined;

  constructor(
    readonly connection: RedisConnection,
    readonly generationKey: string,
    readonly positionKey: string,
    readonly describe: string,
  ) {}

  /** Reads (or creates) the generation and the current position; called once before the first write. */
  async start(): Promise<void> {
    const [generation, position] = (await this.connection.script(
      INIT_GENERATION,
      [this.generationKey, this.positionKey],
      [randomUUID()],
    )) as [string, string];
    this.#generation = generation;
    this.saw(Number(position));
  }

  get started(): boolean {
    return this.#generation !== undefined;
  }

  /** The generation every write script must find. */
  get generation(): string {
    return this.#generation as string;
  }

  /** The highest position seen: every write script checks the counter is not below it. */
  get seen(): number {
    return this.#seen;
  }

  /** Raises the high-water mark (positions from appends and reads). */
  saw(position: number): void {
    if (position > this.#seen) this.#seen = position;
  }

  /** Throws the latched error when the store was already found rewound. */
  throwIfRewound(): void {
    if (this.#rewound) throw this.#rewound;
  }

  /** Latches and returns the error for a `{'rewound', generation, position}` script reply. */
  rewound(currentGeneration: string, position: number): StoreRewoundError {
    const detail =
      currentGeneration === ""
        ? `its generation marker is gone (FLUSHALL, or a restore from before it existed); this store had seen feed position ${this.#seen}, Redis now has ${position}`
        : currentGeneration !== this.#generation
          ? `its generation marker changed from ${this.#generation} to ${currentGeneration} (the data was replaced)`
          : `its feed position is ${position}, below the ${this.#seen} this store had already seen (a restart from an old RDB/AOF, or a failover to a lagging replica)`;
    this.#rewound ??= new StoreRewoundError(this.describe, detail);
    return this.#rewound;
  }

  /** Checks the marks on their own (before writes that do not run the append script, such as purge). */
  async check(): Promise<void> {
    this.throwIfRewound();
    const reply = (await this.connection.script(
      CHECK_GENERATION,
      [this.generationKey, this.positionKey],
      [this.generation, this.#seen],
    )) as [string, string?, number?];
    if (reply[0] === "rewound") throw this.rewound(String(reply[1] ?? ""), Number(reply[2] ?? 0));
  }
}
