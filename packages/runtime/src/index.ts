/**
 * @granary/runtime — the silo that hosts Granary actors.
 *
 * @example
 * import { Silo } from "@granary/runtime";
 * import { Account } from "./account.js";
 *
 * const silo = await Silo.start({ actors: [Account] }); // embedded SQLite in ./.granary/
 * const account = silo.get(Account, "acc-1");
 * await account.deposit(100);
 * await silo.stop();
 */

export type { ActivationState } from "./activation/activation-state.js";
export { DEFAULT_SNAPSHOT_EVERY, DEFAULT_SNAPSHOT_VERSION } from "./activation/actor-type-info.js";
export { ADMIN, adminMessage } from "./admin/admin-frame.js";
export type { ActivationQuery, ActivationView, SiloInfo, SiloLoad, SiloRouting } from "./admin/admin-types.js";
// The operator request's page (versions as numbers); HistoryPage is the typed page of silo/client history.
export { type OperatorHistoryPage, registerStoreHistoryOperation } from "./admin/history-operation.js";
export { operatorInspectorSource } from "./admin/inspector-source.js";
export { OperatorClient, type OperatorTransport, type SiloReport } from "./admin/operator-client.js";
export { type AdminOperation, intArg, OperatorRequests, stringArg } from "./admin/operator-requests.js";
export { SiloAdmin } from "./admin/silo-admin.js";
export { type SiloInspectorOption, type SiloOperatorLinks, siloOperatorTransport } from "./admin/silo-inspector.js";
export {
  type AdmissionOptions,
  DEFAULT_MAX_CALLS_IN_FLIGHT,
  DEFAULT_MAX_CALLS_IN_FLIGHT_PER_CONNECTION,
  DEFAULT_MAX_CONCURRENT_ACTIVATIONS,
  DEFAULT_MAX_EVENT_LOOP_DELAY_MS,
  DEFAULT_MAX_QUEUE_DELAY_MS,
  type ResolvedAdmissionOptions,
  resolveAdmissionOptions,
} from "./admission/admission-options.js";
export { type CallInvoker, createActorRef } from "./calls/actor-proxy.js";
export type { CallContext, CallRequest } from "./calls/call-context.js";
export { Client, type ClientRouting } from "./client/client.js";
export { type ClientOptions, resolveClientOptions } from "./client/client-options.js";
export {
  type ClusterOptions,
  DEFAULT_CLUSTER_NAME,
  DEFAULT_LEASE_MS,
  DEFAULT_PORT,
  resolveClusterOptions,
} from "./cluster/cluster-options.js";
export { DATA_SUBJECT_TYPE, DataSubject, type ForgetResult } from "./crypto/data-subject.js";
export type { BusEvent, BusSubscribeOptions, BusSubscription } from "./events-bus/event-bus.js";
export { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from "./history/history-options.js";
export type {
  CorrelatedPage,
  CorrelatedQuery,
  EventOf,
  HistoryEvent,
  HistoryPage,
  HistoryQuery,
  PastState,
  StateOf,
} from "./history/history-types.js";
export { MAX_PURGE_FIELD_LENGTH, type PurgedActor, type PurgeListener } from "./history/purge.js";
export * from "./messaging/index.js";
export {
  hashPlacement,
  localPlacement,
  type PlacementOption,
  type PlacementRequest,
  type PlacementStrategy,
  randomPlacement,
} from "./placement/placement.js";
export { ownerOf, partitionKey, partitionOf, REMINDER_PARTITIONS } from "./reminders/reminder-partitions.js";
export {
  DEFAULT_REMINDER_SERVICE_OPTIONS,
  type ReminderServiceOptions,
  resolveReminderServiceOptions,
} from "./reminders/reminder-service-options.js";
export { Silo } from "./silo/silo.js";
export {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_DATA_DIR,
  DEFAULT_IDLE_TIMEOUT_MS,
  type ResolvedSiloOptions,
  resolveSiloOptions,
  type SiloOptions,
} from "./silo/silo-options.js";
export { createDefaultLogger, type LogFormat, resolveLogFormat } from "./telemetry/logger.js";
