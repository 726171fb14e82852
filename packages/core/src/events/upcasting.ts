import { InvalidArgumentError } from "../errors.js";
import type { EventEnvelope } from "./envelope.js";
import type { JsonObject } from "./json-value.js";

const UPCASTERS_BRAND = Symbol.for("@granary/core.Upcasters");

/** Turns `data` of schema version `fromVersion` into version `fromVersion + 1`. */
export type Upcaster = (data: JsonObject, event: EventEnvelope) => JsonObject;

/**
 * Upcasters per event type and schema version, applied on read so old history replays into
 * today's code. Stored events are never rewritten.
 *
 * @example
 * const upcasters = new Upcasters()
 *   .register("Deposited", 1, (d) => ({ ...d, currency: "EUR" }))       // v1 → v2
 *   .register("Deposited", 2, (d) => ({ ...d, amountCents: Number(d.amount) * 100 })); // v2 → v3
 */
export class Upcasters {
  /**
   * Whether `value` is an Upcasters from any copy of @granary/core. An application that ends up
   * with two copies of the package (a store built against one, actors against another) would fail
   * an `instanceof` check; the brand is shared through the global symbol registry.
   */
  static isUpcasters(value: unknown): value is Upcasters {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[UPCASTERS_BRAND] === true;
  }

  /** See {@link Upcasters.isUpcasters}. */
  get [UPCASTERS_BRAND](): true {
    return true;
  }

  readonly #byType = new Map<string, Map<number, Upcaster>>();

  register(eventType: string, fromVersion: number, upcaster: Upcaster): this {
    if (!Number.isInteger(fromVersion) || fromVersion < 1) {
      throw new InvalidArgumentError(`upcaster fromVersion must be an integer >= 1, got ${fromVersion}`);
    }
    let steps = this.#byType.get(eventType);
    if (!steps) {
      steps = new Map();
      this.#byType.set(eventType, steps);
    }
    if (steps.has(fromVersion)) {
      throw new InvalidArgumentError(`an upcaster for ${eventType} v${fromVersion} is already registered`);
    }
    steps.set(fromVersion, upcaster);
    return this;
  }

  /** The schema version new events of this type are written with: one past the last upcaster. */
  currentVersion(eventType: string): number {
    const steps = this.#byType.get(eventType);
    if (!steps || steps.size === 0) return 1;
    return Math.max(...steps.keys()) + 1;
  }

  /** Applies every step from the event's schema version up to the current one. Throws what a step throws. */
  upcast<E extends EventEnvelope>(event: E): E {
    const steps = this.#byType.get(event.type);
    if (!steps) return event;
    let data = event.data;
    let version = event.schemaVersion;
    for (let step = steps.get(version); step; step = steps.get(version)) {
      data = step(data, event);
      version += 1;
    }
    if (version === event.schemaVersion) return event;
    // Not `{ ...event, data, schemaVersion }`: properties after a spread take V8's slow path on Node 20.
    const upcast: { -readonly [K in keyof E]: E[K] } = Object.assign({}, event);
    upcast.data = data;
    upcast.schemaVersion = version;
    return upcast;
  }

  get isEmpty(): boolean {
    return this.#byType.size === 0;
  }
}
