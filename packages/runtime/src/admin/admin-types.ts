import type { JsonValue } from "@granary/core";
import type { ActivationState } from "../activation/activation-state.js";

/** What one silo reports about itself to operators (CLI, inspector). */
export interface SiloInfo {
  readonly siloId: string;
  /** "host:port" where clients and silos reach it; undefined for a standalone silo without a listener. */
  readonly address: string | undefined;
  readonly startedAt: string;
  readonly uptimeMs: number;
  /** Live activations on this silo, and per actor type. */
  readonly activations: number;
  readonly activationsByType: Readonly<Record<string, number>>;
  /** Calls this silo accepted since it started: poll twice for calls/s. */
  readonly callsTotal: number;
  /** How client calls reached their actors: the share that needed a second hop. */
  readonly routing: SiloRouting;
  /** The silo's process id: silos of an in-process test cluster share one. */
  readonly pid: number;
  /** CPU time of the silo's process since it started (`process.cpuUsage()`): poll twice for CPU per call. */
  readonly cpu: { readonly userMicros: number; readonly systemMicros: number };
  readonly actorTypes: readonly string[];
  /** Operator requests this silo answers (history, stateAt, purge, ... when those subsystems are on). */
  readonly operations: readonly string[];
  readonly status: "serving" | "stopping" | "fenced";
  readonly fencedReason: string | undefined;
  readonly memory: { readonly rssBytes: number; readonly heapUsedBytes: number };
  /** Admission control: how close the silo is to shedding, and whether it sheds now. */
  readonly load: SiloLoad;
}

/**
 * Counters since the silo started (see docs/architecture.md, "The flow of a call"). Over a
 * cluster, `sum(clientCallsForwarded) / sum(clientCalls)` is the share of client calls that went
 * to a silo other than their actor's owner: first calls, and calls right after an actor moved.
 */
export interface SiloRouting {
  /** Actor calls clients sent to this silo. */
  readonly clientCalls: number;
  /** Of those, the calls this silo forwarded to another silo. */
  readonly clientCallsForwarded: number;
  /** Calls other silos forwarded to this silo. */
  readonly callsFromSilos: number;
}

/** A silo's load as admission control sees it (see README "Overload"). */
export interface SiloLoad {
  /** True while the silo sheds or is about to: loop lagging, in-flight limit near, or a call shed in the last 10 s. */
  readonly overloaded: boolean;
  readonly callsInFlight: number;
  readonly maxCallsInFlight: number;
  /** Calls refused with OVERLOADED since the silo started. */
  readonly shedTotal: number;
  readonly lastShedAt: string | undefined;
  /** The event loop lags more than `maxEventLoopDelayMs`: new calls are shed. */
  readonly eventLoopLagging: boolean;
  /** Activations loading now, and waiting for a slot. */
  readonly activationsLoading: number;
  readonly activationsWaiting: number;
  /** Bytes of incomplete frames held for this silo's connections (bounded by `maxBufferedFrameBytes`). */
  readonly bufferedFrameBytes: number;
}

/** One activation as an operator sees it. */
export interface ActivationView {
  readonly type: string;
  readonly id: string;
  readonly siloId: string;
  readonly state: ActivationState;
  /** Fencing epoch issued by the directory when it activated. */
  readonly epoch: number | undefined;
  readonly mailboxDepth: number;
  readonly lastActiveAt: string;
  /** Event-sourced actors: the version of the state below. */
  readonly version?: number;
  /** Event-sourced actors: the current state (plain JSON). */
  readonly actorState?: JsonValue;
}

/** A search over the activations of a silo. */
export interface ActivationQuery {
  /** Only this actor type. */
  readonly type?: string;
  /** Only ids containing this text. */
  readonly idContains?: string;
  /** At most this many. @default 100 */
  readonly limit?: number;
}
