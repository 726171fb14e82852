import {
  type Clock,
  type Directory,
  InvalidArgumentError,
  type ReminderInfo,
  type ReminderStore,
  streamOf,
} from "@granary/core";
import type { Logger } from "pino";
import type { CallRequest } from "../calls/call-context.js";
import { StandaloneDirectory } from "../directory/standalone-directory.js";
import { PartitionOwnership } from "./partition-ownership.js";
import { partitionOfKey, REMINDER_PARTITIONS } from "./reminder-partitions.js";
import { ReminderRegistry } from "./reminder-registry.js";
import { ReminderService } from "./reminder-service.js";
import type { ResolvedReminderServiceOptions } from "./reminder-service-options.js";
import { ReminderTelemetry } from "./reminder-telemetry.js";

/** Operator calls a client sends to any silo; answered by that silo from the store, no activation. */
export const ReminderAdmin = {
  List: "granary:reminders",
  Cancel: "granary:cancelReminder",
} as const;

export interface SiloRemindersOptions {
  readonly store: ReminderStore;
  /** Whether the silo opened the store (and so closes it). */
  readonly owned: boolean;
  /** The cluster's directory; undefined for a standalone silo. */
  readonly directory: Directory | undefined;
  readonly clock: Clock;
  readonly logger: () => Logger;
  readonly siloId: () => string;
  readonly liveSilos: () => readonly string[];
  readonly canFire: () => boolean;
  readonly invoke: (request: CallRequest) => Promise<unknown>;
  readonly service: ResolvedReminderServiceOptions;
}

/**
 * Epochs for a standalone silo's reminder partitions: above the epoch that last claimed each
 * partition in the reminder store (the event store knows nothing of partitions), so a restart with
 * the clock set back is never fenced by its own earlier run until the clock catches up.
 */
function standaloneDirectory(store: ReminderStore, clock: Clock): Directory {
  return new StandaloneDirectory(
    {
      highestEpoch: async (key: string) => {
        const partition = partitionOfKey(key);
        return partition === undefined ? 0 : store.partitionEpoch(partition);
      },
    },
    () => clock.now(),
  );
}

/** A silo's reminders: the registry actors and operators use, and the service that fires this silo's share. */
export class SiloReminders {
  readonly registry: ReminderRegistry;
  readonly service: ReminderService;
  readonly #options: SiloRemindersOptions;

  constructor(options: SiloRemindersOptions) {
    this.#options = options;
    const logger = options.logger().child({ component: "reminders" });
    const ownership = new PartitionOwnership({
      partitions: REMINDER_PARTITIONS,
      directory: options.directory ?? standaloneDirectory(options.store, options.clock),
      siloId: options.siloId,
      liveSilos: options.liveSilos,
      logger,
    });
    this.service = new ReminderService({
      store: options.store,
      ownership,
      clock: options.clock,
      logger,
      telemetry: new ReminderTelemetry(),
      options: options.service,
      invoke: options.invoke,
      canFire: options.canFire,
      siloId: options.siloId,
    });
    this.registry = new ReminderRegistry(options.store, options.clock, (dueAt) => this.service.hint(dueAt));
  }

  start(): void {
    this.service.start();
  }

  list(actorType: string, actorId: string): Promise<ReminderInfo[]> {
    return this.registry.list(streamOf(actorType, actorId));
  }

  cancel(actorType: string, actorId: string, name: string): Promise<boolean> {
    return this.registry.cancel(streamOf(actorType, actorId), name);
  }

  /** Answers an operator call from a client; undefined when `request` is not one. */
  answerAdmin(request: CallRequest): Promise<unknown> | undefined {
    if (request.method === ReminderAdmin.List) return this.list(request.actorType, request.actorId);
    if (request.method === ReminderAdmin.Cancel) {
      const name = request.args[0];
      if (typeof name !== "string") {
        return Promise.reject(new InvalidArgumentError("cancelReminder: give the reminder's name"));
      }
      return this.cancel(request.actorType, request.actorId, name);
    }
    return undefined;
  }

  async stop(): Promise<void> {
    await this.service.stop();
    if (this.#options.owned) await this.#options.store.close();
  }
}
