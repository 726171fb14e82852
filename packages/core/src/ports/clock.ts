/**
 * Time source, replaceable in tests so leases, heartbeats, retries, deadlines, idle collection and
 * timers can be driven by hand (see {@link ManualClock}).
 */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (timestamps, epochs, lease expiry in shared stores). */
  now(): number;
  /**
   * Milliseconds from an arbitrary origin that never step back, for measuring durations such as
   * how long this silo's own lease is still valid (a wall clock stepped back by NTP must not
   * extend it). @default now()
   */
  monotonic?(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface TimerHandle {
  readonly id: unknown;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(callback, ms) {
    const id = setTimeout(callback, ms);
    // A pending idle timer must never keep a process alive on its own.
    (id as { unref?: () => void }).unref?.();
    return { id };
  },
  clearTimeout(handle) {
    clearTimeout(handle.id as ReturnType<typeof setTimeout>);
  },
};

/** The clock's monotonic reading, or `now()` for a clock without one. */
export function monotonicNow(clock: Clock): number {
  return clock.monotonic ? clock.monotonic() : clock.now();
}

/**
 * Resolves after `ms` of the clock's time. On the system clock the timer keeps the process alive,
 * unlike `systemClock.setTimeout`: a call waiting to retry must not let Node exit under it.
 */
export function delay(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (clock === systemClock) setTimeout(resolve, ms);
    else clock.setTimeout(resolve, ms);
  });
}
