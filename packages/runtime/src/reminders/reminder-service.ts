import {
  type Clock,
  messageOf,
  type PartitionClaim,
  type ReminderRecord,
  type ReminderStore,
  type TimerHandle,
} from "@granary/core";
import { SpanStatusCode } from "@opentelemetry/api";
import type { Logger } from "pino";
import { type CallRequest, callContext, newCallId } from "../calls/call-context.js";
import type { PartitionOwnership } from "./partition-ownership.js";
import { REMINDER_METHOD } from "./reminder-call.js";
import { planTick } from "./reminder-schedule.js";
import type { ResolvedReminderServiceOptions } from "./reminder-service-options.js";
import type { ReminderTelemetry } from "./reminder-telemetry.js";

export interface ReminderServiceDeps {
  readonly store: ReminderStore;
  readonly ownership: PartitionOwnership;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly telemetry: ReminderTelemetry;
  readonly options: ResolvedReminderServiceOptions;
  /** The normal call path: routes to wherever the directory places the actor, activating it. */
  readonly invoke: (request: CallRequest) => Promise<unknown>;
  /** False while this silo may not act for the cluster (lease lapsed, fenced). */
  readonly canFire: () => boolean;
  readonly siloId: () => string;
}

interface InFlight {
  readonly partition: number;
  /** While set, the reminder failed and waits for its retry: polls skip it until then. */
  retryAt: number | undefined;
  attempts: number;
}

/**
 * Fires the reminders of the partitions this silo owns. Every `pollIntervalMs` it asks the store
 * for the due entries of its partitions (one indexed range read, fenced by the partitions' epochs),
 * fires each as a call through the normal call path (so the actor activates wherever the directory
 * places it and `onReminder` runs as a turn), then advances the reminder with a compare-and-set
 * fenced by the same epoch. A tick is advanced only after its handler succeeded: at least once.
 * Far-future reminders cost nothing until due (no timer per reminder).
 */
export class ReminderService {
  readonly #deps: ReminderServiceDeps;
  readonly #inFlight = new Map<string, InFlight>();
  readonly #running = new Set<Promise<void>>();
  #pollTimer: TimerHandle | undefined;
  #nextPollAt = Number.POSITIVE_INFINITY;
  #polling = false;
  #pollAgain = false;
  #stopped = false;
  #lastRebalance = Number.NEGATIVE_INFINITY;
  #liveSignature = "";
  #rebalancing: Promise<void> | undefined;

  constructor(deps: ReminderServiceDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#schedulePoll(0);
  }

  /** A reminder was registered on this silo: poll by its due time if that is before the next poll. */
  hint(dueAt: number): void {
    if (this.#stopped) return;
    const delay = Math.max(0, dueAt - this.#deps.clock.now());
    if (this.#deps.clock.now() + delay < this.#nextPollAt) this.#schedulePoll(delay);
  }

  /** Ticks in flight on this silo now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Stops polling, lets ticks in flight finish, and hands every partition back. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#pollTimer) this.#deps.clock.clearTimeout(this.#pollTimer);
    await this.#rebalancing;
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
    await this.#deps.ownership.releaseAll();
  }

  #schedulePoll(delayMs: number): void {
    if (this.#stopped) return;
    if (this.#pollTimer) this.#deps.clock.clearTimeout(this.#pollTimer);
    this.#nextPollAt = this.#deps.clock.now() + delayMs;
    this.#pollTimer = this.#deps.clock.setTimeout(() => {
      this.#pollTimer = undefined;
      this.#nextPollAt = Number.POSITIVE_INFINITY;
      void this.#poll();
    }, delayMs);
  }

  async #poll(): Promise<void> {
    if (this.#polling) {
      this.#pollAgain = true;
      return;
    }
    this.#polling = true;
    let full = false;
    try {
      if (this.#deps.canFire()) {
        this.#maybeRebalance();
        full = await this.#claimAndFire();
      }
    } catch (error) {
      this.#deps.logger.warn({ err: messageOf(error) }, "reminder poll failed; retrying at the next poll");
    } finally {
      this.#polling = false;
    }
    if (this.#stopped) return;
    const { pollIntervalMs } = this.#deps.options;
    // A full batch means more is due: poll again at once (bounded by maxInFlight).
    if (this.#pollAgain || full) {
      this.#pollAgain = false;
      this.#schedulePoll(0);
    } else if (this.#pollTimer === undefined || this.#nextPollAt > this.#deps.clock.now() + pollIntervalMs) {
      this.#schedulePoll(pollIntervalMs);
    }
  }

  /** Reads due reminders of the owned partitions and starts firing them; true when the batch was full. */
  async #claimAndFire(): Promise<boolean> {
    const { store, ownership, clock, options } = this.#deps;
    const claims = ownership.claims();
    const room = options.maxInFlight - this.#inFlight.size;
    if (claims.length === 0 || room <= 0) return false;
    const now = clock.now();
    const limit = Math.min(options.batchSize, room);
    const { due, fenced } = await store.claimDue(claims, now, limit + this.#waitingRetries());
    for (const partition of fenced) ownership.lost(partition);
    const epochs = new Map(claims.map((c) => [c.partition, c.epoch]));
    const seen = new Set<string>();
    let started = 0;
    for (const reminder of due) {
      const epoch = epochs.get(reminder.partition);
      if (epoch === undefined || fenced.includes(reminder.partition)) continue;
      const key = keyOf(reminder);
      seen.add(key);
      const entry = this.#inFlight.get(key);
      if (entry) {
        if (entry.retryAt === undefined || entry.retryAt > now) continue;
        entry.retryAt = undefined;
      } else {
        if (started >= limit) break;
        this.#inFlight.set(key, { partition: reminder.partition, attempts: 0, retryAt: undefined });
      }
      started++;
      this.#track(this.#fire(key, reminder, { partition: reminder.partition, epoch }));
    }
    const full = due.length >= limit + this.#waitingRetries();
    // A reminder waiting for its retry that is no longer due here was cancelled, replaced or moved.
    if (!full) {
      for (const [key, entry] of this.#inFlight) {
        if (entry.retryAt !== undefined && entry.retryAt <= now && !seen.has(key)) this.#inFlight.delete(key);
      }
    }
    return full && started > 0;
  }

  #waitingRetries(): number {
    let waiting = 0;
    for (const entry of this.#inFlight.values()) if (entry.retryAt !== undefined) waiting++;
    return waiting;
  }

  /** Fires due ticks of one reminder until it is no longer due (several under "fire-all" catch-up). */
  async #fire(key: string, first: ReminderRecord, claim: PartitionClaim): Promise<void> {
    const { store, ownership, clock, logger } = this.#deps;
    let reminder: ReminderRecord | undefined = first;
    let failed = false;
    try {
      while (reminder && reminder.dueAt <= clock.now() && !this.#stopped) {
        if (!this.#deps.canFire() || !ownership.holds(claim.partition, claim.epoch)) return;
        const plan = planTick(reminder, clock.now());
        if (plan.tick) await this.#deliver(reminder, plan.tick);
        const outcome = await store.advance(reminder, plan.nextDueAt, claim.epoch);
        if (outcome === "fenced") {
          ownership.lost(claim.partition);
          return;
        }
        if (outcome === "changed" || plan.nextDueAt === undefined) return;
        reminder = { ...reminder, dueAt: plan.nextDueAt };
      }
    } catch (error) {
      failed = true;
      const entry = this.#inFlight.get(key);
      if (entry) {
        entry.attempts++;
        const backoff = Math.min(this.#deps.options.maxRetryDelayMs, 500 * 2 ** Math.min(entry.attempts - 1, 10));
        entry.retryAt = clock.now() + backoff;
        logger.warn(
          {
            actor: first.stream,
            reminder: first.name,
            attempt: entry.attempts,
            retryInMs: backoff,
            err: messageOf(error),
          },
          "reminder tick failed; it will be retried",
        );
        this.#schedulePollWithin(backoff);
      }
    } finally {
      if (!failed) this.#inFlight.delete(key);
    }
  }

  async #deliver(reminder: ReminderRecord, tick: NonNullable<ReturnType<typeof planTick>["tick"]>): Promise<void> {
    const { telemetry, clock, options } = this.#deps;
    const separator = reminder.stream.indexOf("/");
    const { span, traceparent } = telemetry.startTick(reminder, tick, this.#deps.siloId());
    telemetry.lag.record(Math.max(0, clock.now() - Date.parse(tick.scheduledAt)), {
      missed_policy: reminder.missed,
    });
    const callId = newCallId();
    const request: CallRequest = {
      actorType: reminder.stream.slice(0, separator),
      actorId: reminder.stream.slice(separator + 1),
      method: REMINDER_METHOD,
      args: [reminder.name, tick],
      context: callContext(callId, [callId], callId, undefined, traceparent),
      timeoutMs: options.tickTimeoutMs,
    };
    try {
      await this.#deps.invoke(request);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
      throw error;
    } finally {
      span.end();
    }
  }

  #schedulePollWithin(delayMs: number): void {
    if (this.#deps.clock.now() + delayMs < this.#nextPollAt) this.#schedulePoll(delayMs);
  }

  /** On a membership change (and now and then while partitions are missing), moves partitions. */
  #maybeRebalance(): void {
    if (this.#rebalancing) return;
    const { ownership, clock, options } = this.#deps;
    const signature = ownership.membershipSignature();
    const now = clock.now();
    const changed = signature !== this.#liveSignature;
    if (!changed && now - this.#lastRebalance < options.rebalanceIntervalMs) return;
    this.#lastRebalance = now;
    this.#liveSignature = signature;
    this.#rebalancing = this.#rebalance().finally(() => {
      this.#rebalancing = undefined;
    });
  }

  async #rebalance(): Promise<void> {
    const { ownership } = this.#deps;
    for (const partition of ownership.surplus()) {
      // Hand over only after this silo's ticks of the partition ended, so no tick runs on two silos.
      const inPartition = [...this.#inFlight.values()].some(
        (f) => f.partition === partition && f.retryAt === undefined,
      );
      if (inPartition) continue;
      await ownership.release(partition);
    }
    const missing = ownership.missing();
    if (missing.length > 0) {
      await ownership.acquire(missing);
      if (ownership.missing().length < missing.length) this.#schedulePoll(0);
    }
  }

  #track(work: Promise<void>): void {
    this.#running.add(work);
    void work.finally(() => this.#running.delete(work));
  }
}

function keyOf(reminder: Pick<ReminderRecord, "stream" | "name">): string {
  return `${reminder.stream}\u0000${reminder.name}`;
}
