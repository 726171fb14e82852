import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ActorClass } from "@granary/core";
import {
  type adminMessage,
  type BusEvent,
  type BusSubscribeOptions,
  type BusSubscription,
  Client,
  OperatorClient,
  OperatorRequests,
  registerStoreHistoryOperation,
  Silo,
  siloOperatorTransport,
} from "@granary/runtime";
import { CliError } from "./cli-error.js";

/** How the CLI reaches Granary, from the global options and the environment. */
export interface ConnectionOptions {
  readonly redis?: string;
  readonly clusterKey?: string;
  readonly cluster?: string;
  readonly gateway?: readonly string[];
  readonly dataDir?: string;
  readonly actors?: string;
}

/** An open connection: the operator view of the cluster (or of a local store), and how to close it. */
export interface Connection {
  readonly operator: OperatorClient;
  /** What the connection points at, for messages ("cluster at redis://…", "data dir ./x"). */
  readonly target: string;
  /** Live events by subject pattern (the event bus); absent where no silo or client runs. */
  readonly events?: EventsSource;
  close(): Promise<void>;
}

/** The event bus as the CLI uses it (a client's or an in-process silo's). */
export interface EventsSource {
  subscribe(pattern: string, handler: (event: BusEvent) => void, options?: BusSubscribeOptions): BusSubscription;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Opens what the options name: `--data-dir` (a standalone SQLite store, opened in this process),
 * else `--gateway` / `--redis` (GRANARY_REDIS_URL) for a running cluster or standalone silo.
 */
export async function openConnection(options: ConnectionOptions, env: Env = process.env): Promise<Connection> {
  if (options.dataDir !== undefined) return openDataDir(options.dataDir, options.actors);
  const redis = options.redis ?? (env.GRANARY_REDIS_URL || undefined);
  const gateways = options.gateway ?? [];
  if (!redis && gateways.length === 0) {
    throw new CliError(
      "nothing to connect to: pass --data-dir <dir> for a local store, --gateway host:port for a silo, or --redis <url> (GRANARY_REDIS_URL) for a cluster",
    );
  }
  const clusterKey = options.clusterKey ?? (env.GRANARY_CLUSTER_KEY || undefined);
  const client = await Client.connect({
    ...(redis ? { redis } : { gateways }),
    ...(clusterKey ? { clusterKey } : { allowUnauthenticated: true }),
    ...(options.cluster ? { clusterName: options.cluster } : {}),
  });
  return {
    operator: client.operator,
    target: redis ? `cluster at ${redis}` : gateways.join(", "),
    events: client.events,
    close: () => client.close(),
  };
}

async function openDataDir(dataDir: string, actorsModule: string | undefined): Promise<Connection> {
  const file = join(dataDir, "granary.db");
  if (!existsSync(file)) {
    throw new CliError(`no Granary store in ${dataDir} (expected ${file}): check --data-dir`);
  }
  if (actorsModule !== undefined) {
    // With the actor classes, a silo on the store can also rebuild state (state --at, actor).
    const actors = await loadActors(actorsModule);
    const silo = await Silo.start({ actors, dataDir });
    const transport = siloOperatorTransport({
      admin: silo.admin,
      selfAddress: () => undefined,
      members: undefined,
      remote: undefined,
    });
    return {
      operator: new OperatorClient(transport),
      target: `data dir ${dataDir}`,
      events: silo.events,
      close: () => silo.stop(),
    };
  }
  const { SqliteEventStore } = await import("@granary/sqlite");
  const store = new SqliteEventStore({ path: file });
  const requests = new OperatorRequests();
  registerStoreHistoryOperation(requests, () => store);
  requests.register("info", () => ({ siloId: "(no silo: store only)", operations: requests.names }));
  const operator = new OperatorClient({
    addresses: async () => ["local"],
    request: async (_address, payload) => {
      const [, op, args] = payload as ReturnType<typeof adminMessage>;
      return requests.handle(op, args);
    },
  });
  return { operator, target: `data dir ${dataDir}`, close: () => store.close() };
}

/** The actor classes a module exports (named exports that are classes with a static `type`). */
async function loadActors(module: string): Promise<ActorClass[]> {
  const path = isAbsolute(module) ? module : resolve(module);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CliError(`could not load --actors ${module}: ${(error as Error).message}`);
  }
  const actors = Object.values(exports).filter(
    (value): value is ActorClass =>
      typeof value === "function" && typeof (value as { type?: unknown }).type === "string",
  );
  if (actors.length === 0) {
    throw new CliError(`--actors ${module} exports no actor class (a class with \`static readonly type\`)`);
  }
  return actors;
}
