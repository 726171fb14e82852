import {
  type Actor,
  type ActorClass,
  type ActorRef,
  type ActorRefFactory,
  type CallOptions,
  CallTimeoutError,
  MemoryDirectory,
  MemorySnapshotStore,
  ShuttingDownError,
  type TimerHandle,
} from "@granary/core";
import { type Logger, pino } from "pino";
import type { ActivationServices } from "../activation/activation-services.js";
import { ActorTypeRegistry } from "../activation/actor-type-info.js";
import { type CallInvoker, createActorRef } from "../calls/actor-proxy.js";
import { type CallRequest, newId } from "../calls/call-context.js";
import { DeadlineTracker } from "../calls/deadlines.js";
import { Catalog } from "../catalog/catalog.js";
import { createSiloTelemetry, type SiloTelemetry } from "../telemetry/silo-telemetry.js";
import { openEmbeddedStores, type Stores } from "./default-stores.js";
import { type ResolvedSiloOptions, resolveSiloOptions, type SiloOptions } from "./silo-options.js";

/**
 * A silo hosts activations of actors. `Silo.start` with no store runs standalone on embedded
 * SQLite in `./.granary/`; `silo.get(Type, id)` returns a typed reference.
 *
 * @example
 * const silo = await Silo.start({ actors: [Account] });
 * await silo.get(Account, "acc-1").deposit(5);
 * await silo.stop();
 */
export class Silo implements ActorRefFactory, CallInvoker {
  readonly siloId: string;
  readonly logger: Logger;
  readonly defaultTimeoutMs: number;
  readonly #options: ResolvedSiloOptions;
  readonly #stores: Stores;
  readonly #catalog: Catalog;
  readonly #deadlines: DeadlineTracker;
  readonly #telemetry: SiloTelemetry;
  readonly #background = new Set<Promise<unknown>>();
  #collector: TimerHandle | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(options: ResolvedSiloOptions, stores: Stores) {
    this.#options = options;
    this.#stores = stores;
    this.siloId = options.siloId ?? `silo-${newId()}`;
    this.logger = (options.logger ?? pino({ level: options.logLevel })).child({ silo: this.siloId });
    this.defaultTimeoutMs = options.callTimeoutMs;
    this.#telemetry = createSiloTelemetry();
    this.#deadlines = new DeadlineTracker(options.clock);
    const services: ActivationServices = {
      siloId: this.siloId,
      store: stores.store,
      snapshots: stores.snapshots,
      directory: options.directory ?? new MemoryDirectory({ now: () => options.clock.now() }),
      clock: options.clock,
      logger: this.logger,
      telemetry: this.#telemetry,
      freezeState: options.freezeState,
      refs: this,
      background: (work) => this.#track(work),
    };
    this.#catalog = new Catalog(new ActorTypeRegistry(options.actors), services);
  }

  /** Starts a silo. Invalid options fail here, with the option's name and the fix. */
  static async start(options: SiloOptions): Promise<Silo> {
    const resolved = resolveSiloOptions(options);
    // Validate actor classes before opening any store, so bad input never leaves files behind.
    new ActorTypeRegistry(resolved.actors);
    const stores: Stores = resolved.store
      ? { store: resolved.store, snapshots: resolved.snapshots ?? new MemorySnapshotStore(), owned: false }
      : await openEmbeddedStores(resolved.dataDir);
    const silo = new Silo(resolved, stores);
    silo.#scheduleCollection();
    silo.logger.info(
      { actors: resolved.actors.map((a) => a.type), store: stores.owned ? resolved.dataDir : "custom" },
      "silo started",
    );
    return silo;
  }

  get<T extends Actor>(type: ActorClass<T>, id: string, options?: CallOptions): ActorRef<T> {
    return createActorRef(this, type, id, options);
  }

  /** Number of live activations on this silo. */
  get activationCount(): number {
    return this.#catalog.size;
  }

  /** Runs one call: used by references, and by the transport for calls from other processes. */
  invoke(request: CallRequest): Promise<unknown> {
    // Calls from outside any actor are refused once stopping; calls inside running chains still drain.
    if (this.#stopping && request.context.chain.length === 1) {
      return Promise.reject(new ShuttingDownError(`silo ${this.siloId}`));
    }
    return new Promise((resolve, reject) => {
      const untrack = this.#deadlines.track(request.timeoutMs, () =>
        reject(new CallTimeoutError(`${request.actorType}/${request.actorId}`, request.method, request.timeoutMs)),
      );
      this.#catalog.dispatch(request).then(
        (value) => {
          untrack();
          resolve(value);
        },
        (error: unknown) => {
          untrack();
          reject(error);
        },
      );
    });
  }

  /** Deactivates activations idle for `idleTimeoutMs` now, instead of waiting for the next sweep. */
  collectIdle(): number {
    return this.#catalog.collectIdle(this.#options.clock.now(), this.#options.idleTimeoutMs);
  }

  /**
   * Graceful stop: refuses new external calls, lets every queued call finish, runs onDeactivate,
   * snapshots, unregisters, then closes the stores it opened. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#collector) this.#options.clock.clearTimeout(this.#collector);
    await this.#catalog.deactivateAll("shutdown");
    await Promise.allSettled(this.#background);
    this.#deadlines.stop();
    if (this.#stores.owned) {
      await this.#stores.store.close();
      await this.#stores.snapshots.close();
    }
    this.logger.info("silo stopped");
  }

  #scheduleCollection(): void {
    this.#collector = this.#options.clock.setTimeout(() => {
      this.collectIdle();
      if (!this.#stopping) this.#scheduleCollection();
    }, this.#options.collectionIntervalMs);
  }

  #track(work: Promise<unknown>): void {
    this.#background.add(work);
    void work.finally(() => this.#background.delete(work));
  }
}
