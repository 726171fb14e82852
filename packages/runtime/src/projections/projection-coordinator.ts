import {
  type Clock,
  type Directory,
  type EventStore,
  messageOf,
  type ProjectionInfo,
  type ProjectionStore,
  projectionId,
  type TimerHandle,
} from "@granary/core";
import type { Logger } from "pino";
import { newId } from "../calls/call-context.js";
import type { ProjectionStatus } from "./projection-progress.js";
import { ProjectionRunner, type RunnerOptions } from "./projection-runner.js";

/** The directory key of a projection: one owner per projection version in the cluster. */
export function projectionOwnerKey(info: ProjectionInfo): string {
  // The standalone directory reads the checkpoint's epoch under this key (read-side.ts strips the prefix).
  return `$granary.projection/${info.id}`;
}

export interface CoordinatorOptions {
  readonly infos: readonly ProjectionInfo[];
  readonly events: EventStore;
  readonly store: ProjectionStore;
  readonly directory: Directory;
  /** The silo's current identity (it changes when a fenced silo rejoins). */
  readonly siloId: () => string;
  /** False while the silo may not write (lease lost, fenced, stopping). */
  readonly canRun: () => boolean;
  /** Check ownership with the directory (cluster mode; a standalone directory stores no entries). */
  readonly clustered: boolean;
  readonly checkIntervalMs: number;
  /** How long a rebuilt version must have been ready before the versions it replaces are dropped. */
  readonly dropAfterMs: number;
  /** Ownership checks and the drop delay run on it. */
  readonly clock: Clock;
  readonly logger: Logger;
  readonly runner: Pick<RunnerOptions, "batchSize" | "cacheSize" | "checkDocuments" | "headIntervalMs">;
}

interface Owned {
  readonly runner: ProjectionRunner;
  readonly activationId: string;
  cleaned: boolean;
  readySince: number | undefined;
}

/**
 * Runs each registered projection on exactly one silo: every `checkIntervalMs` a silo tries to
 * register each projection it does not run in the directory (like an actor activation); the
 * winner runs it with the epoch the directory issued, and its first commit fences every earlier
 * owner in the projection store. A survivor takes over when the owner's silo dies (the directory
 * entry dies with it) or leaves (it unregisters). A failed projection stays failed (and owned, so
 * it does not bounce between silos) until `restart`.
 */
export class ProjectionCoordinator {
  readonly #options: CoordinatorOptions;
  readonly #owned = new Map<string, Owned>();
  readonly #failed = new Map<string, ProjectionStatus>();
  #timer: TimerHandle | undefined;
  #ticking: Promise<void> | undefined;
  #stopped = false;

  constructor(options: CoordinatorOptions) {
    this.#options = options;
  }

  get infos(): readonly ProjectionInfo[] {
    return this.#options.infos;
  }

  /** Claims what it can now (so a standalone silo's projections run when start returns), then keeps checking. */
  async start(): Promise<void> {
    await this.tick();
    this.#scheduleTick();
  }

  #scheduleTick(): void {
    if (this.#stopped) return;
    this.#timer = this.#options.clock.setTimeout(() => {
      // The next round is counted from when this one started, as an interval would.
      this.#scheduleTick();
      void this.tick();
    }, this.#options.checkIntervalMs);
  }

  /** The runner of a projection id on this silo, if it runs here. */
  runner(id: string): ProjectionRunner | undefined {
    const owned = this.#owned.get(id);
    return owned?.runner.running ? owned.runner : undefined;
  }

  /** One ownership round; concurrent calls share it. */
  tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    for (const info of this.#options.infos) {
      if (this.#stopped) return;
      try {
        await this.#check(info);
      } catch (error) {
        this.#options.logger.warn({ projection: info.id, err: messageOf(error) }, "projection ownership check failed");
      }
    }
  }

  async #check(info: ProjectionInfo): Promise<void> {
    const { directory } = this.#options;
    const key = projectionOwnerKey(info);
    const owned = this.#owned.get(info.id);
    if (owned) {
      const { runner } = owned;
      if (runner.state === "failed") {
        this.#failed.set(info.id, runner.status());
        return;
      }
      if (runner.running) {
        if (!this.#options.canRun()) {
          await this.#release(info, owned, false);
          return;
        }
        if (this.#options.clustered) {
          const entry = await directory.lookup(key);
          if (entry?.activationId !== owned.activationId) {
            this.#options.logger.warn(
              { projection: info.id, owner: entry?.siloId },
              "projection moved to another silo",
            );
            await this.#release(info, owned, false);
            return;
          }
        }
        // Dropped only a while after the swap, so no silo's query still reads the old version.
        if (!owned.cleaned && runner.status().ready) {
          const now = this.#options.clock.now();
          owned.readySince ??= now;
          if (now - owned.readySince >= this.#options.dropAfterMs) owned.cleaned = await this.#dropOlderVersions(info);
        }
        return;
      }
      // Fenced or stopped: let go of the entry, then compete again below.
      await this.#release(info, owned, true);
    }
    if (!this.#options.canRun() || this.#failed.has(info.id)) return;
    const activationId = newId();
    const entry = await directory.register(key, this.#options.siloId(), activationId);
    if (entry.activationId !== activationId) return;
    const runner = new ProjectionRunner({
      ...this.#options.runner,
      info,
      events: this.#options.events,
      store: this.#options.store,
      epoch: entry.epoch,
      logger: this.#options.logger,
      onEnded: (ended) => {
        if (ended.state === "failed") this.#failed.set(info.id, ended.status());
      },
    });
    this.#owned.set(info.id, { runner, activationId, cleaned: false, readySince: undefined });
    this.#options.logger.info({ projection: info.id, epoch: entry.epoch }, "projection runs on this silo");
    await runner.start();
  }

  async #release(info: ProjectionInfo, owned: Owned, unregister: boolean): Promise<void> {
    this.#owned.delete(info.id);
    await owned.runner.stop();
    if (unregister) await this.#options.directory.unregister(projectionOwnerKey(info), owned.activationId);
  }

  /** After a rebuild caught up, the versions it replaces are deleted. */
  async #dropOlderVersions(info: ProjectionInfo): Promise<boolean> {
    const checkpoints = await this.#options.store.checkpoints();
    for (const id of checkpoints.keys()) {
      const version = versionOf(info.name, id);
      if (version !== undefined && version < info.version) {
        await this.#options.store.drop(id);
        this.#options.logger.info({ projection: info.id, dropped: id }, "rebuild complete: older version dropped");
      }
    }
    return true;
  }

  /** Forgets a failed projection's failure so the next round starts it again from its checkpoint. */
  async restart(name: string): Promise<void> {
    for (const info of this.#options.infos) {
      if (info.name !== name) continue;
      this.#failed.delete(info.id);
      const owned = this.#owned.get(info.id);
      if (owned) await this.#release(info, owned, true);
    }
    await this.tick();
  }

  /** Statuses of the projections running (or failed) on this silo, from memory. */
  localStatuses(): ProjectionStatus[] {
    return [...this.#owned.values()].map((owned) => owned.runner.status());
  }

  async status(): Promise<ProjectionStatus[]> {
    const checkpoints = await this.#options.store.checkpoints();
    const head = await this.#options.store.headPosition();
    return this.#options.infos.map((info) => {
      const owned = this.#owned.get(info.id);
      if (owned) return owned.runner.status();
      const failed = this.#failed.get(info.id);
      if (failed) return failed;
      const checkpoint = checkpoints.get(info.id);
      const position = checkpoint?.position ?? 0;
      return {
        name: info.name,
        version: info.version,
        id: info.id,
        kind: info.kind,
        state: "elsewhere",
        position,
        head,
        lag: Math.max(0, head - position),
        ratePerSecond: 0,
        etaMs: undefined,
        ready: checkpoint?.ready ?? false,
        epoch: checkpoint?.epoch,
      } satisfies ProjectionStatus;
    });
  }

  /** The silo lost its lease: stop at once, keep the entries (they die with the silo's identity). */
  async fence(): Promise<void> {
    const owned = [...this.#owned.values()];
    this.#owned.clear();
    await Promise.all(owned.map((o) => o.runner.stop()));
  }

  /** Graceful stop: stop every runner, then unregister so a survivor takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#options.clock.clearTimeout(this.#timer);
    await this.#ticking;
    await Promise.all(
      this.#options.infos.map(async (info) => {
        const owned = this.#owned.get(info.id);
        if (owned) {
          await this.#release(info, owned, true).catch((error: unknown) => {
            this.#options.logger.warn({ projection: info.id, err: messageOf(error) }, "projection unregister failed");
          });
        }
      }),
    );
  }
}

/** The version of `id` if it is a version of projection `name`. */
export function versionOf(name: string, id: string): number | undefined {
  const prefix = projectionId(name, 0).slice(0, -1);
  if (!id.startsWith(prefix)) return undefined;
  const version = Number(id.slice(prefix.length));
  return Number.isSafeInteger(version) && version > 0 ? version : undefined;
}
