/** Where a projection stands, as `silo.projections.status()` reports it. */
export interface ProjectionStatus {
  readonly name: string;
  readonly version: number;
  /** `<name>@v<version>`, its key in the projection store. */
  readonly id: string;
  readonly kind: "document" | "handler";
  /**
   * - `starting`: loading its checkpoint and claiming it with this silo's epoch
   * - `catching-up`: processing history; not yet at the feed head
   * - `live`: caught up, following new commits
   * - `failed`: its handler kept failing; `error` and `position` say where (others go on)
   * - `fenced`: another silo took it over (newer epoch); this silo stopped it
   * - `stopped`: the silo stopped it (shutdown, lost ownership)
   * - `elsewhere`: another silo runs it (position and head from the store)
   */
  readonly state: "starting" | "catching-up" | "live" | "failed" | "fenced" | "stopped" | "elsewhere";
  /** Checkpoint: feed position of the last processed event (events done). */
  readonly position: number;
  /** Feed head position when last looked at. */
  readonly head: number;
  /** head − position. */
  readonly lag: number;
  /** Feed positions processed per second, smoothed over recent batches. */
  readonly ratePerSecond: number;
  /** Estimated time to catch up at the current rate; undefined when idle or unknown. */
  readonly etaMs: number | undefined;
  /** True once it has caught up with the head (a rebuild is complete: queries use it). */
  readonly ready: boolean;
  /** Owner epoch of this silo's run. */
  readonly epoch: number | undefined;
  readonly error?: { readonly message: string; readonly code?: string; readonly position: number };
}

/** Rate of progress (positions per second), smoothed exponentially over batches. */
export class ProgressMeter {
  #rate = 0;
  #last: { readonly at: number; readonly position: number } | undefined;

  record(position: number, now = Date.now()): void {
    const last = this.#last;
    this.#last = { at: now, position };
    if (!last || now <= last.at) return;
    const instant = ((position - last.position) * 1_000) / (now - last.at);
    // Weight by elapsed time, so many tiny batches and one large batch smooth alike.
    const weight = Math.min(1, (now - last.at) / 2_000);
    this.#rate = this.#rate === 0 ? instant : this.#rate + (instant - this.#rate) * weight;
  }

  /** Positions per second; decays to 0 when nothing was processed for a while. */
  rate(now = Date.now()): number {
    if (!this.#last || now - this.#last.at > 5_000) return 0;
    return this.#rate;
  }

  eta(lag: number, now = Date.now()): number | undefined {
    const rate = this.rate(now);
    if (lag <= 0) return 0;
    return rate > 0 ? Math.round((lag / rate) * 1_000) : undefined;
  }
}
