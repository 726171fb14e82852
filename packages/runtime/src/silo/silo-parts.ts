import { type Directory, formatAddress, type ReminderStore } from "@granary/core";
import type { Logger } from "pino";
import type { ActivationServices } from "../activation/activation-services.js";
import { ActorTypeRegistry } from "../activation/actor-type-info.js";
import { stringArg } from "../admin/operator-requests.js";
import { SiloAdmin } from "../admin/silo-admin.js";
import { AdmissionControl } from "../admission/admission-control.js";
import type { ResolvedAdmissionOptions } from "../admission/admission-options.js";
import type { CallRequest } from "../calls/call-context.js";
import { Catalog } from "../catalog/catalog.js";
import type { Shredding } from "../crypto/shredding.js";
import { StandaloneDirectory } from "../directory/standalone-directory.js";
import { ReadSide } from "../projections/read-side.js";
import { SiloReminders } from "../reminders/silo-reminders.js";
import { createSiloTelemetry } from "../telemetry/silo-telemetry.js";
import type { Stores } from "./default-stores.js";
import { SiloCallGate } from "./silo-call-gate.js";
import type { ClusterParts } from "./silo-cluster.js";
import { SiloForgetting } from "./silo-forgetting.js";
import { SiloHistory } from "./silo-history.js";
import type { ResolvedSiloOptions } from "./silo-options.js";

/**
 * How long a purge waits for the projections on its silo to apply its notice: short, so a purge is
 * not held up (past its caller's timeout) by a projection that is rebuilding far behind the head.
 */
const LOCAL_PURGE_WAIT_MS = 5_000;

/** What a silo was started with: its options and what `Silo.start` opened for it. */
export interface SiloInputs {
  readonly options: ResolvedSiloOptions;
  readonly stores: Stores;
  readonly cluster: ClusterParts | undefined;
  readonly admission: ResolvedAdmissionOptions;
  readonly reminders: { readonly store: ReminderStore; readonly owned: boolean };
  readonly shredding: Shredding | undefined;
  /** The logger without the silo's id (the read side labels its own lines). */
  readonly baseLogger: Logger;
}

/**
 * The silo as its parts see it, read at each use and never copied: a silo that fenced itself rejoins
 * under a new identity, and its status changes as it stops.
 */
export interface SiloSelf {
  /** Its public face; also what makes references for actors' `this.get`. */
  readonly silo: ActivationServices["refs"] & {
    readonly siloId: string;
    readonly logger: Logger;
    /** Set while the silo is fenced (it lost its membership lease). */
    readonly fencedReason: string | undefined;
    readonly address: { readonly host: string; readonly port: number } | undefined;
  };
  /** stop() was called. */
  readonly stopping: () => boolean;
  /** Bytes of incomplete frames its standalone listener holds (0 without one). */
  readonly bufferedFrameBytes: () => number;
  /** Why no activation may start now (stopping, fenced), else undefined. */
  readonly refuseNewActivations: () => Error | undefined;
  /** Background work (snapshots) that stop() waits for. */
  readonly track: (work: Promise<unknown>) => void;
}

/** A silo's parts, wired to each other; the silo starts and stops them. */
export interface SiloParts {
  readonly admission: AdmissionControl;
  readonly catalog: Catalog;
  readonly gate: SiloCallGate;
  readonly history: SiloHistory;
  readonly forgetting: SiloForgetting;
  readonly reminders: SiloReminders;
  readonly readSide: ReadSide;
  readonly admin: SiloAdmin;
}

/** Builds the parts of a silo and wires them to each other; nothing starts yet. */
export function assembleSiloParts(inputs: SiloInputs, self: SiloSelf): SiloParts {
  const { options, stores, cluster } = inputs;
  const { silo } = self;
  const clock = options.clock;
  const leaseValid = () => cluster?.agent?.leaseValid() ?? true;
  const invoke = (request: CallRequest) => gate.invoke(request);
  const admission = new AdmissionControl(
    inputs.admission,
    clock,
    () => silo.siloId,
    () => silo.logger,
  );
  const directory: Directory =
    cluster?.backends.directory ?? options.directory ?? new StandaloneDirectory(stores.store, () => clock.now());
  const reminders = new SiloReminders({
    ...inputs.reminders,
    directory: cluster?.backends.directory ?? options.directory,
    clock,
    logger: () => silo.logger,
    siloId: () => silo.siloId,
    liveSilos: () => cluster?.agent?.liveSiloIds() ?? [silo.siloId],
    canFire: () => !silo.fencedReason && leaseValid(),
    invoke,
    service: options.reminderService,
  });
  const telemetry = createSiloTelemetry();
  const services: ActivationServices = {
    // Getters: a silo that fenced itself rejoins under a new identity.
    get siloId() {
      return silo.siloId;
    },
    store: stores.store,
    snapshots: stores.snapshots,
    directory,
    clock,
    get logger() {
      return silo.logger;
    },
    telemetry,
    freezeState: options.freezeState,
    refs: silo,
    canCommit: leaseValid,
    activationSlots: admission.activationSlots,
    reminders: reminders.registry,
    background: self.track,
  };
  const startedAt = clock.now();
  const admin: SiloAdmin = new SiloAdmin(() => ({
    siloId: silo.siloId,
    address: silo.address ? formatAddress(silo.address) : undefined,
    startedAt,
    now: () => clock.now(),
    callsTotal: gate.callsTotal,
    routing: gate.routing,
    status: silo.fencedReason ? "fenced" : self.stopping() ? "stopping" : "serving",
    fencedReason: silo.fencedReason,
    catalog,
    admission,
    bufferedFrameBytes: self.bufferedFrameBytes(),
  }));
  const registry = new ActorTypeRegistry(options.actors);
  const history: SiloHistory = new SiloHistory({
    registry,
    services,
    invoke,
    defaultTimeoutMs: options.callTimeoutMs,
    admin,
  });
  const catalog: Catalog = new Catalog(registry, services, {
    purger: history.purger,
    refuseNewActivations: self.refuseNewActivations,
    // A standalone silo has no one to send them to: the calls fail with NOT_OWNER.
    onNotOwner: cluster ? (calls) => gate.rerouteNotOwned(calls) : undefined,
  });
  const forgetting = new SiloForgetting({
    shredding: inputs.shredding,
    catalog,
    snapshots: stores.snapshots,
    logger: () => silo.logger,
  });
  const readSide = new ReadSide({
    projections: options.projections,
    events: stores.store,
    projectionStore: options.projectionStore,
    // Standalone (undefined): the read side issues epochs above those its checkpoints hold.
    directory: cluster?.backends.directory ?? options.directory,
    siloId: () => silo.siloId,
    canRun: () => !silo.fencedReason && !self.stopping() && leaseValid(),
    clustered: cluster !== undefined || options.directory !== undefined,
    logger: inputs.baseLogger,
    callTimeoutMs: options.callTimeoutMs,
    settings: options.readSide,
    clock,
  });
  const gate: SiloCallGate = new SiloCallGate({
    clock,
    catalog,
    admission,
    telemetry,
    siloId: () => silo.siloId,
    fencedReason: () => silo.fencedReason,
    stopping: self.stopping,
    router: () => cluster?.router,
    dataSubjectCall: (request) => forgetting.answer(request),
    systemCall: (request) => readSide.answer(request),
    reminderAdmin: (request) => reminders.answerAdmin(request),
  });
  // Every projection hears of a purge through the notice in the feed; the purge waits (briefly)
  // for those running here, so a query on this silo right after the purge no longer sees it.
  history.onPurge(({ noticePosition }) => readSide.applied(noticePosition, LOCAL_PURGE_WAIT_MS));
  // Purging a stream cancels its reminders: nothing may wake a forgotten actor.
  history.onPurge(async ({ tombstone }) => {
    await reminders.registry.cancelAll(tombstone.stream);
  });
  admin.register("projections", () => readSide.status());
  admin.register("reminders", (args) => reminders.list(stringArg(args, "type"), stringArg(args, "id")));
  return { admission, catalog, gate, history, forgetting, reminders, readSide, admin };
}
