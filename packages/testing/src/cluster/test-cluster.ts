import {
  type ActorClass,
  type Clock,
  type ErrorClass,
  type EventStore,
  InvalidConfigurationError,
  type KeyStore,
  type ManualClock,
  MemoryDirectory,
  MemoryEventStore,
  MemoryKeyStore,
  MemoryMembership,
  MemoryReminderStore,
  MemorySnapshotStore,
  type ReminderStore,
  type SnapshotStore,
  systemClock,
} from "@granary/core";
import { Client, type ClientOptions, type PlacementOption, Silo, type SiloOptions } from "@granary/runtime";
import { pino } from "pino";
import { freePort } from "../servers/free-port.js";
import { DirectoryView, MembershipView, noFaults, type SiloSeat, storeView } from "./silo-faults.js";
import { TestNetwork } from "./test-network.js";

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
  /**
   * Time of every silo, client, the membership and the directory. With a `ManualClock` the cluster
   * is deterministic: heartbeats, lease expiry, retries, call deadlines, reminders and idle
   * collection happen only when the test calls {@link TestCluster.advance}.
   * @default siloOptions.clock, else the system clock
   */
  readonly clock?: Clock;
  /** Extra options for every silo (leaseMs, idleTimeoutMs, ...). */
  readonly siloOptions?: Partial<SiloOptions>;
}

const TEST_CLUSTER_KEY = "granary-test-cluster-key-not-a-secret";
/** Stops a runaway `advance` (a timer that keeps rescheduling itself at the same instant). */
const MAX_TIMER_STEPS = 100_000;

/**
 * N silos in this process, talking over real loopback TCP with the real transport, sharing an
 * in-memory membership, directory and store: the cluster code paths without any server.
 *
 * Faults: `crash(i)` (the silo is gone without a goodbye: its lease is no longer renewed),
 * `partition(i)` / `heal(i)` (it keeps running but reaches no membership, directory, silo or
 * client: a zombie that must fence itself), `slowStore` / `failStore` (appends land late or fail).
 * With `clock: new ManualClock()`, `advance(ms)` expires leases at once instead of in seconds.
 *
 * @example
 * const cluster = await TestCluster.start({ actors: [Account], silos: 3, clock: new ManualClock() });
 * const client = await cluster.client();
 * await client.get(Account, "a").deposit(5);
 * cluster.crash(1);
 * await cluster.advance(20_000); // the lease lapses, survivors take silo 1's actors
 * await client.get(Account, "a").deposit(5);
 * await cluster.stop();
 */
export class TestCluster {
  readonly clock: Clock;
  readonly membership: MemoryMembership;
  readonly directory: MemoryDirectory;
  readonly store: EventStore;
  readonly snapshots: SnapshotStore;
  readonly keyStore: KeyStore;
  readonly reminders: ReminderStore;
  /** Every silo started, by index (crashed ones too: indexes never shift). */
  readonly silos: Silo[] = [];
  readonly #seats: SiloSeat[] = [];
  readonly #network = new TestNetwork();
  readonly #indexOf = new Map<string, number>();
  readonly #clients: Client[] = [];
  readonly #options: TestClusterOptions;

  private constructor(options: TestClusterOptions) {
    this.#options = options;
    this.clock = options.clock ?? options.siloOptions?.clock ?? systemClock;
    this.membership = new MemoryMembership({ clock: this.clock, watchPollIntervalMs: 500 });
    this.directory = new MemoryDirectory({
      isLive: (id) => this.membership.isLive(id),
      now: () => this.clock.now(),
    });
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

  /** Starts one more silo and returns it; its index is `silos.length - 1`. */
  async addSilo(): Promise<Silo> {
    const seat: SiloSeat = {
      index: this.#seats.length,
      faults: noFaults(),
      network: this.#network,
      indexOf: this.#indexOf,
    };
    const peers = this.#seats.map((s) => s.index);
    this.#seats.push(seat);
    // The silo listens on a port chosen here, so its relays exist before anyone learns of it; it
    // advertises its client relay, which is what membership and owner hints carry.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      await this.#network.expose(seat.index, port, peers);
      try {
        const silo = await this.#startSilo(seat, port);
        this.silos[seat.index] = silo;
        return silo;
      } catch (error) {
        // Another process took the free port between the probe and the listen: pick another one
        // (the relays look their target up per connection, so re-exposing re-points them).
        const taken = error instanceof InvalidConfigurationError && error.message.includes("already in use");
        if (!taken || attempt >= 5) throw error;
      }
    }
  }

  async #startSilo(seat: SiloSeat, port: number): Promise<Silo> {
    const options = this.#options;
    const advertisedPort = this.#network.port("client", seat.index);
    if (advertisedPort === undefined) throw new Error(`no client relay for silo ${seat.index}`);
    return Silo.start({
      logger: pino({ level: "silent" }),
      // A test process's signals belong to the test runner, not to the silos it starts.
      handleSignals: false,
      ...options.siloOptions,
      clock: this.clock,
      actors: options.actors,
      errors: options.errors ?? [],
      store: storeView(this.store, seat, this.clock, "the event store"),
      snapshots: storeView(this.snapshots, seat, this.clock, "the snapshot store"),
      // Only where crypto-shredding is in use, so other clusters' stores are not wrapped.
      ...(options.keyStore || declaresPersonalData(options.actors) ? { keyStore: this.keyStore } : {}),
      reminders: storeView(this.reminders, seat, this.clock, "the reminder store"),
      membership: new MembershipView(this.membership, seat),
      directory: new DirectoryView(this.directory, seat),
      clusterKey: TEST_CLUSTER_KEY,
      port,
      advertisedPort,
      ...(options.placement === undefined ? {} : { placement: options.placement }),
    });
  }

  /** A client that finds the silos through the cluster's membership, on the cluster's clock. */
  async client(
    options: Omit<ClientOptions, "membership" | "gateways" | "redis" | "clusterKey" | "clock"> = {},
  ): Promise<Client> {
    const client = await Client.connect({
      membership: this.membership,
      clusterKey: TEST_CLUSTER_KEY,
      errors: this.#options.errors ?? [],
      clock: this.clock,
      ...options,
    });
    this.#clients.push(client);
    return client;
  }

  /** Which silo holds each active actor (`Type/id` → silo id); crashed silos hold nothing. */
  placements(): Map<string, string> {
    const owners = new Map<string, string>();
    this.silos.forEach((silo, index) => {
      if (this.#seat(index).faults.crashed) return;
      for (const key of silo.activeActors()) owners.set(key, silo.siloId);
    });
    return owners;
  }

  /**
   * Silo `index` is gone without a goodbye, for good: from now on it reaches no membership,
   * directory, store, silo or client, and its open connections are reset. Its lease is no longer
   * renewed, so once it expires the survivors remove it and take its actors over.
   */
  crash(index: number): void {
    const seat = this.#seat(index);
    seat.faults.crashed = true;
    seat.faults.isolated = true;
    this.#network.cut(index);
  }

  /**
   * Silo `index` keeps running but reaches no membership, directory, silo or client (the stores
   * stay reachable, as they may be from the other side of a real partition): a zombie. Its lease
   * lapses, it must fence itself, and the survivors take its actors over; the store's epochs refuse
   * what it still tries to append for them.
   */
  partition(index: number): void {
    const seat = this.#seat(index);
    seat.faults.isolated = true;
    this.#network.cut(index);
  }

  /** Ends a partition: a silo that fenced itself meanwhile rejoins under a new silo id. */
  heal(index: number): void {
    const seat = this.#seat(index);
    if (seat.faults.crashed) throw new Error(`silo ${index} crashed: a crashed silo cannot be healed`);
    seat.faults.isolated = false;
    this.#network.restore(index);
  }

  /**
   * Appends (of silo `index`, or of every silo) reach the store `ms` later on the cluster's clock:
   * with a ManualClock, only when the test advances time. 0 restores.
   */
  slowStore(ms: number, index?: number): void {
    for (const seat of this.#targets(index)) seat.faults.appendDelayMs = ms;
  }

  /** Appends (of silo `index`, or of every silo) fail with `error` without reaching the store; undefined restores. */
  failStore(error: Error | undefined, index?: number): void {
    for (const seat of this.#targets(index)) seat.faults.appendFailure = error;
  }

  /**
   * Moves a ManualClock forward by `ms`, firing the timers that fall due one instant at a time and
   * letting the work each starts settle (promises, loopback I/O) before the next fires, as it would
   * in real time. Heartbeats, lease expiry, fencing, retries and reminders happen inside.
   * @throws Error when the cluster does not run on a ManualClock
   */
  async advance(ms: number): Promise<void> {
    const clock = this.clock;
    if (!isManual(clock)) {
      throw new Error("TestCluster.advance needs a cluster started with `clock: new ManualClock()`");
    }
    const target = clock.now() + ms;
    await settle();
    for (let steps = 0; ; steps++) {
      const next = clock.nextDue;
      if (next === undefined || next > target) break;
      if (steps >= MAX_TIMER_STEPS)
        throw new Error(`advance: more than ${MAX_TIMER_STEPS} timers fired; a timer loop?`);
      clock.advance(Math.max(0, next - clock.now()));
      await settle();
    }
    clock.advance(target - clock.now());
    await settle();
  }

  /** Stops every client and silo (gracefully), then the network. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.#clients.map((c) => c.close()));
    // Appends held back by slowStore would keep a draining activation waiting for a time that never comes.
    for (const seat of this.#seats) {
      seat.faults.appendDelayMs = 0;
      for (const fail of [...seat.faults.held]) fail(new Error("the test cluster stopped"));
    }
    await Promise.allSettled(this.silos.map((s) => s.stop()));
    await this.#network.close();
  }

  #seat(index: number): SiloSeat {
    const seat = this.#seats[index];
    if (!seat) throw new RangeError(`no silo ${index}: the cluster has ${this.#seats.length}`);
    return seat;
  }

  #targets(index: number | undefined): readonly SiloSeat[] {
    return index === undefined ? this.#seats : [this.#seat(index)];
  }
}

/** Runs what is ready: promise callbacks, then a few turns of the event loop for loopback I/O. */
async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** By shape, not `instanceof`: a ManualClock from another copy of @granary/core works too. */
function isManual(clock: Clock): clock is ManualClock {
  return typeof (clock as Partial<ManualClock>).advance === "function" && "nextDue" in clock;
}

function declaresPersonalData(actors: readonly ActorClass[]): boolean {
  return actors.some((cls) => (cls as { personalData?: unknown }).personalData !== undefined);
}
