import {
  type ActorClass,
  type ErrorClass,
  type EventStore,
  type KeyStore,
  MemoryDirectory,
  MemoryEventStore,
  MemoryKeyStore,
  MemoryMembership,
  MemoryReminderStore,
  MemorySnapshotStore,
  type ReminderStore,
  type SnapshotStore,
} from "@granary/core";
import { Client, type PlacementOption, Silo, type SiloOptions } from "@granary/runtime";
import { pino } from "pino";

export interface TestClusterOptions {
  readonly actors: readonly ActorClass[];
  /** Silos started by `start`. @default 2 */
  readonly silos?: number;
  readonly errors?: readonly ErrorClass[];
  /** Shared by every silo. @default a new MemoryEventStore */
  readonly store?: EventStore;
  readonly snapshots?: SnapshotStore;
  /** Data keys of personal fields, shared by every silo. @default a new MemoryKeyStore */
  readonly keyStore?: KeyStore;
  /** Shared by every silo. @default a new MemoryReminderStore */
  readonly reminders?: ReminderStore;
  readonly placement?: PlacementOption;
  /** Extra options for every silo (idleTimeoutMs, clock, ...). */
  readonly siloOptions?: Partial<SiloOptions>;
}

const TEST_CLUSTER_KEY = "granary-test-cluster-key-not-a-secret";

/**
 * N silos in this process, talking over real loopback TCP with the real transport, sharing an
 * in-memory membership, directory and store: the cluster code paths without any server.
 *
 * @example
 * const cluster = await TestCluster.start({ actors: [Account], silos: 3 });
 * const client = await cluster.client();
 * await client.get(Account, "a").deposit(5);
 * await cluster.stop();
 */
export class TestCluster {
  readonly membership = new MemoryMembership();
  readonly directory = new MemoryDirectory({ isLive: (id) => this.membership.isLive(id) });
  readonly store: EventStore;
  readonly snapshots: SnapshotStore;
  readonly keyStore: KeyStore;
  readonly reminders: ReminderStore;
  readonly silos: Silo[] = [];
  readonly #clients: Client[] = [];
  readonly #options: TestClusterOptions;

  private constructor(options: TestClusterOptions) {
    this.#options = options;
    this.store = options.store ?? new MemoryEventStore();
    this.snapshots = options.snapshots ?? new MemorySnapshotStore();
    this.keyStore = options.keyStore ?? new MemoryKeyStore();
    this.reminders = options.reminders ?? new MemoryReminderStore();
  }

  static async start(options: TestClusterOptions): Promise<TestCluster> {
    const cluster = new TestCluster(options);
    for (let i = 0; i < (options.silos ?? 2); i++) await cluster.addSilo();
    return cluster;
  }

  /** Starts one more silo and returns it. */
  async addSilo(): Promise<Silo> {
    const options = this.#options;
    const silo = await Silo.start({
      logger: pino({ level: "silent" }),
      // A test process's signals belong to the test runner, not to the silos it starts.
      handleSignals: false,
      ...options.siloOptions,
      actors: options.actors,
      errors: options.errors ?? [],
      store: this.store,
      snapshots: this.snapshots,
      // Only where crypto-shredding is in use, so other clusters' stores are not wrapped.
      ...(options.keyStore || declaresPersonalData(options.actors) ? { keyStore: this.keyStore } : {}),
      reminders: this.reminders,
      membership: this.membership,
      directory: this.directory,
      clusterKey: TEST_CLUSTER_KEY,
      port: 0,
      ...(options.placement === undefined ? {} : { placement: options.placement }),
    });
    this.silos.push(silo);
    return silo;
  }

  /** A client that finds the silos through the cluster's membership. */
  async client(options: { readonly callTimeoutMs?: number } = {}): Promise<Client> {
    const client = await Client.connect({
      membership: this.membership,
      clusterKey: TEST_CLUSTER_KEY,
      errors: this.#options.errors ?? [],
      ...options,
    });
    this.#clients.push(client);
    return client;
  }

  /** Which silo holds each active actor (`Type/id` → silo id). */
  placements(): Map<string, string> {
    const owners = new Map<string, string>();
    for (const silo of this.silos) for (const key of silo.activeActors()) owners.set(key, silo.siloId);
    return owners;
  }

  /** Stops every client and silo (gracefully). */
  async stop(): Promise<void> {
    await Promise.allSettled(this.#clients.map((c) => c.close()));
    await Promise.allSettled(this.silos.map((s) => s.stop()));
  }
}

function declaresPersonalData(actors: readonly ActorClass[]): boolean {
  return actors.some((cls) => (cls as { personalData?: unknown }).personalData !== undefined);
}
