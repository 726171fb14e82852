import { InvalidConfigurationError } from "@granary/core";
import {
  DEFAULT_MAX_BUFFERED_FRAME_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_PARTIAL_FRAME_TIMEOUT_MS,
} from "../messaging/transport-options.js";
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
  /**
   * Bytes the silo's listener may hold for frames still arriving, across all its connections. A
   * frame that does not arrive in one read holds a buffer of its announced size (up to 16 MiB) until
   * its end comes; a peer starting a frame that would take the total above this bound is
   * disconnected (nothing it sent in that frame ran), the others keep theirs. Frames that arrive
   * whole, as calls of ordinary size do, take nothing from it. At least 16 MiB (the largest frame).
   * @default 134_217_728 (128 MiB) (env GRANARY_MAX_BUFFERED_FRAME_BYTES): eight frames of the
   * largest size at once; forty peers stalling on such frames pinned 640 MiB before this bound
   */
  readonly maxBufferedFrameBytes?: number;
  /**
   * A peer that started a frame and sends no 64 KiB of it (nor its end) for this long is disconnected
   * and its buffer released. A slow link that keeps the frame moving is never cut; an idle
   * connection between frames is never closed by this. Applies to the silo's own connections to
   * other silos too.
   * @default 30_000 (env GRANARY_PARTIAL_FRAME_TIMEOUT_MS): the default call timeout; a request
   * stalled that long has lost its caller anyway
   */
  readonly partialFrameTimeoutMs?: number;
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
  readonly maxBufferedFrameBytes: number;
  readonly partialFrameTimeoutMs: number;
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
  const maxBufferedFrameBytes = positiveInt(
    "maxBufferedFrameBytes",
    options.maxBufferedFrameBytes,
    env.GRANARY_MAX_BUFFERED_FRAME_BYTES,
    DEFAULT_MAX_BUFFERED_FRAME_BYTES,
    "bytes",
  );
  if (maxBufferedFrameBytes < DEFAULT_MAX_FRAME_BYTES) {
    throw new InvalidConfigurationError(
      "maxBufferedFrameBytes",
      `is ${maxBufferedFrameBytes}, below the largest frame a silo accepts (${DEFAULT_MAX_FRAME_BYTES} bytes): such a frame could never be received`,
    );
  }
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
    maxBufferedFrameBytes,
    partialFrameTimeoutMs: positiveInt(
      "partialFrameTimeoutMs",
      options.partialFrameTimeoutMs,
      env.GRANARY_PARTIAL_FRAME_TIMEOUT_MS,
      DEFAULT_PARTIAL_FRAME_TIMEOUT_MS,
    ),
  };
}
