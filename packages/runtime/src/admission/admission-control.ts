import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import { type Clock, OverloadedError } from "@granary/core";
import type { Logger } from "pino";
import type { CallRequest } from "../calls/call-context.js";
import { ActivationSlots } from "./activation-slots.js";
import type { ResolvedAdmissionOptions } from "./admission-options.js";

/** How often the event-loop delay is read (and its histogram reset). */
const LAG_SAMPLE_MS = 100;
/**
 * A lagging loop sheds only while this many calls are in flight: with fewer, the silo's own calls
 * are not what holds its loop (another process on the machine, the application's own work), and
 * refusing them would not help.
 */
export const LAG_SHEDDING_MIN_IN_FLIGHT = 1_000;

/**
 * Decides at a silo's door whether a call is taken or shed with `OVERLOADED`. Shedding is cheap and
 * happens before anything runs, so a burst costs the silo a refusal per call instead of memory and
 * event-loop time; the bounds keep the loop free enough that the membership lease is always renewed.
 *
 * Only calls that start a chain are shed: a call made by an actor belongs to work already admitted,
 * and refusing it would fail a turn that is half done.
 */
export class AdmissionControl {
  /** Activations loading at once (register, snapshot, replay). */
  readonly activationSlots: ActivationSlots;
  /** Directory look-ups in flight, for calls to actors not active here. */
  readonly lookupSlots: ActivationSlots;
  readonly #options: ResolvedAdmissionOptions;
  readonly #logger: () => Logger;
  readonly #siloId: () => string;
  readonly #clock: Clock;
  #inFlight = 0;
  #shed = 0;
  #lastShedAt: number | undefined;
  #lagging = false;
  #histogram: IntervalHistogram | undefined;
  #sampler: ReturnType<typeof setInterval> | undefined;
  readonly #errors = new Map<string, OverloadedError>();

  /** @param clock the silo's clock, for when a call was last shed (lag sampling stays on real time: it measures this process) */
  constructor(options: ResolvedAdmissionOptions, clock: Clock, siloId: () => string, logger: () => Logger) {
    this.#options = options;
    this.#clock = clock;
    this.#siloId = siloId;
    this.#logger = logger;
    const queued = (): OverloadedError =>
      this.#error("maxQueueDelayMs", `waited more than ${options.maxQueueDelayMs} ms for an activation slot`);
    this.activationSlots = new ActivationSlots(options.maxConcurrentActivations, options.maxQueueDelayMs, queued);
    this.lookupSlots = new ActivationSlots(options.maxConcurrentActivations, options.maxQueueDelayMs, queued);
  }

  /** Starts watching the event loop. */
  start(): void {
    if (this.#histogram) return;
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    this.#histogram = histogram;
    this.#sampler = setInterval(() => this.#sample(), LAG_SAMPLE_MS);
    this.#sampler.unref();
  }

  stop(): void {
    if (this.#sampler) clearInterval(this.#sampler);
    this.#histogram?.disable();
    this.#sampler = undefined;
    this.#histogram = undefined;
  }

  /** Calls accepted and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Calls shed since the silo started. */
  get shed(): number {
    return this.#shed;
  }

  /** When (ms since the epoch, on the silo's clock) the last call was shed; undefined if none was. */
  get lastShedAt(): number | undefined {
    return this.#lastShedAt;
  }

  /** The in-flight limit of the whole silo. */
  get maxCallsInFlight(): number {
    return this.#options.maxCallsInFlight;
  }

  /** Whether new chains are being shed because the event loop lags. */
  get lagging(): boolean {
    return this.#lagging;
  }

  /**
   * Admits a call (counted in flight until {@link done}) or returns the error to shed it with.
   * @param connectionInFlight requests being handled on the connection it came on, itself included
   */
  admit(request: CallRequest, connectionInFlight: number): OverloadedError | undefined {
    if (request.context.chain.length === 1) {
      const refusal = this.#refusal(connectionInFlight);
      if (refusal) {
        this.#shed++;
        this.#lastShedAt = this.#clock.now();
        return refusal;
      }
    }
    this.#inFlight++;
    return undefined;
  }

  /** An admitted call was answered. */
  done(): void {
    this.#inFlight--;
  }

  #refusal(connectionInFlight: number): OverloadedError | undefined {
    const options = this.#options;
    if (this.#inFlight >= options.maxCallsInFlight) {
      return this.#error("maxCallsInFlight", `${options.maxCallsInFlight} calls in flight on the silo`);
    }
    if (connectionInFlight > options.maxCallsInFlightPerConnection) {
      return this.#error(
        "maxCallsInFlightPerConnection",
        `${options.maxCallsInFlightPerConnection} calls in flight from this connection`,
      );
    }
    if (this.#lagging && this.#inFlight >= LAG_SHEDDING_MIN_IN_FLIGHT) {
      return this.#error("maxEventLoopDelayMs", `event loop more than ${options.maxEventLoopDelayMs} ms behind`);
    }
    return undefined;
  }

  /**
   * One error per limit, reused: a burst is shed at the cost of a counter, not of an Error and its
   * stack trace per call (what the caller receives is its name, code, message and data).
   */
  #error(limit: string, detail: string): OverloadedError {
    const siloId = this.#siloId();
    const cached = this.#errors.get(limit);
    if (cached?.silo === siloId) return cached;
    const error = new OverloadedError(siloId, limit, detail);
    this.#errors.set(limit, error);
    return error;
  }

  #sample(): void {
    const histogram = this.#histogram;
    if (!histogram) return;
    const lagMs = Math.round(histogram.max / 1e6);
    histogram.reset();
    const lagging = lagMs > this.#options.maxEventLoopDelayMs;
    if (lagging !== this.#lagging) {
      this.#lagging = lagging;
      const details = { eventLoopDelayMs: lagMs, maxEventLoopDelayMs: this.#options.maxEventLoopDelayMs };
      if (lagging) this.#logger().warn(details, "event loop lagging: shedding new calls with OVERLOADED");
      else this.#logger().info({ ...details, shed: this.#shed }, "event loop caught up: taking new calls again");
    }
  }
}
