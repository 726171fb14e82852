import { positiveInt } from "../options/option-parsing.js";

/**
 * Admission control of a silo: how much work it takes on before it sheds new calls with
 * `OVERLOADED` (retryable; nothing ran). Calls made by actors (a chain already admitted) are never
 * shed, so admitted work can always finish; only calls that start a chain are.
 */
export interface AdmissionOptions {
  /**
   * Calls in flight on this silo (accepted, not yet answered) above which calls that start a chain
   * are shed. Bounds the silo's memory under a burst: each call to a new actor holds an activation,
   * its store reads and its directory registration until it is answered.
   * @default 20_000 (env GRANARY_MAX_CALLS_IN_FLIGHT): far above what the benchmarks keep in flight
   * (~1,000), and ~100 MiB of activations at most
   */
  readonly maxCallsInFlight?: number;
  /**
   * Calls in flight from one client or silo connection above which its new calls are shed, so one
   * connection cannot take the whole silo.
   * @default 10_000 (env GRANARY_MAX_CALLS_IN_FLIGHT_PER_CONNECTION): half the silo's budget
   */
  readonly maxCallsInFlightPerConnection?: number;
  /**
   * Activations loading at once (directory registration, snapshot and event replay), and directory
   * look-ups in flight; more wait in line, in order. Bounds the store round trips, replay memory and
   * event-loop work a burst of first calls causes at any moment.
   * @default 128 (env GRANARY_MAX_CONCURRENT_ACTIVATIONS): at ~1 ms per store round trip, ~30,000
   * activations per second, more than one Redis or PostgreSQL serves
   */
  readonly maxConcurrentActivations?: number;
  /**
   * A call that waited this long in line for an activation or directory slot is shed with
   * OVERLOADED when its turn comes (nothing ran) instead of running late and timing out with an
   * unknown outcome: a queue that stays this long means the silo takes in more than it serves.
   * @default 5_000 (env GRANARY_MAX_QUEUE_DELAY_MS): a sixth of the default call timeout
   */
  readonly maxQueueDelayMs?: number;
  /**
   * Event-loop delay (the longest in the last sampling window) above which calls that start a chain
   * are shed until the loop catches up. Keeps the loop free for lease renewal: a silo whose loop
   * lags past its lease fences itself.
   * @default min(1_000, leaseMs / 6) in cluster mode, 1_000 standalone (env GRANARY_MAX_EVENT_LOOP_DELAY_MS)
   */
  readonly maxEventLoopDelayMs?: number;
}

export const DEFAULT_MAX_CALLS_IN_FLIGHT = 20_000;
export const DEFAULT_MAX_CALLS_IN_FLIGHT_PER_CONNECTION = 10_000;
export const DEFAULT_MAX_CONCURRENT_ACTIVATIONS = 128;
export const DEFAULT_MAX_EVENT_LOOP_DELAY_MS = 1_000;
export const DEFAULT_MAX_QUEUE_DELAY_MS = 5_000;

export interface ResolvedAdmissionOptions {
  readonly maxCallsInFlight: number;
  readonly maxCallsInFlightPerConnection: number;
  readonly maxConcurrentActivations: number;
  readonly maxQueueDelayMs: number;
  readonly maxEventLoopDelayMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * @param leaseMs the membership lease in cluster mode (the event-loop bound derives from it)
 * @throws InvalidConfigurationError naming the option
 */
export function resolveAdmissionOptions(
  options: AdmissionOptions,
  env: Env,
  leaseMs: number | undefined,
): ResolvedAdmissionOptions {
  return {
    maxCallsInFlight: positiveInt(
      "maxCallsInFlight",
      options.maxCallsInFlight,
      env.GRANARY_MAX_CALLS_IN_FLIGHT,
      DEFAULT_MAX_CALLS_IN_FLIGHT,
      "calls",
    ),
    maxCallsInFlightPerConnection: positiveInt(
      "maxCallsInFlightPerConnection",
      options.maxCallsInFlightPerConnection,
      env.GRANARY_MAX_CALLS_IN_FLIGHT_PER_CONNECTION,
      DEFAULT_MAX_CALLS_IN_FLIGHT_PER_CONNECTION,
      "calls",
    ),
    maxConcurrentActivations: positiveInt(
      "maxConcurrentActivations",
      options.maxConcurrentActivations,
      env.GRANARY_MAX_CONCURRENT_ACTIVATIONS,
      DEFAULT_MAX_CONCURRENT_ACTIVATIONS,
      "activations",
    ),
    maxQueueDelayMs: positiveInt(
      "maxQueueDelayMs",
      options.maxQueueDelayMs,
      env.GRANARY_MAX_QUEUE_DELAY_MS,
      DEFAULT_MAX_QUEUE_DELAY_MS,
    ),
    maxEventLoopDelayMs: positiveInt(
      "maxEventLoopDelayMs",
      options.maxEventLoopDelayMs,
      env.GRANARY_MAX_EVENT_LOOP_DELAY_MS,
      leaseMs === undefined
        ? DEFAULT_MAX_EVENT_LOOP_DELAY_MS
        : Math.max(1, Math.min(DEFAULT_MAX_EVENT_LOOP_DELAY_MS, Math.floor(leaseMs / 6))),
    ),
  };
}
