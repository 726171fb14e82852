import {
  DocumentProjection,
  type EventStore,
  isGranaryError,
  isRedacted,
  MemoryEventStorage,
  MemoryEventStore,
  MemoryKeyStorage,
  MemoryKeyStore,
  MemorySnapshotStore,
  type PersonalData,
  type ProjectedEvent,
  type RecordedEvent,
  redacted,
} from "@granary/core";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Customer, type CustomerEvent, Household } from "../__fixtures__/customers.js";
import { Silo } from "../silo/silo.js";
import { EncryptingEventStore } from "./encrypting-event-store.js";
import { sealEvents } from "./event-crypto.js";
import { KeyCache } from "./key-cache.js";
import { PersonalDataRules } from "./personal-data-rules.js";

const silent = pino({ level: "silent" });
const silos: Silo[] = [];

interface World {
  readonly events: MemoryEventStorage;
  readonly snapshots: MemorySnapshotStore;
  readonly keys: MemoryKeyStorage;
}

function world(): World {
  return { events: new MemoryEventStorage(), snapshots: new MemorySnapshotStore(), keys: new MemoryKeyStorage() };
}

async function startSilo(w: World, options: Partial<Parameters<typeof Silo.start>[0]> = {}) {
  const silo = await Silo.start({
    actors: [Customer, Household],
    logger: silent,
    store: new MemoryEventStore({ storage: w.events }),
    snapshots: w.snapshots,
    keyStore: new MemoryKeyStore({ storage: w.keys }),
    ...options,
  });
  silos.push(silo);
  return silo;
}

/** The events as stored (ciphertext), bypassing the silo's decryption. */
function rawStore(w: World): EventStore {
  return new MemoryEventStore({ storage: w.events });
}

afterEach(async () => {
  await Promise.all(silos.splice(0).map((s) => s.stop()));
});

/** What reading cust-1's profile on `silo` rejects with (its value, should it resolve). */
function profileError(silo: Silo): Promise<unknown> {
  return silo
    .get(Customer, "cust-1")
    .profile()
    .catch((e: unknown) => e);
}

describe("crypto-shredding - personal fields are encrypted per data subject", () => {
  it("round trip: the actor sees its plaintext; the store holds only ciphertext of the declared fields", async () => {
    const w = world();
    const silo = await startSilo(w);
    const ada = silo.get(Customer, "cust-1");

    await ada.register("Ada Lovelace", "ada@example.com", "gold");
    await ada.changeEmail("ada@analytical.engine");

    expect(await ada.profile()).toEqual({
      name: "Ada Lovelace",
      email: "ada@analytical.engine",
      plan: "gold",
      emails: 2,
    });
    const stored = await rawStore(w).read("Customer/cust-1");
    const serialized = JSON.stringify(stored);
    expect(serialized).not.toContain("Ada Lovelace");
    expect(serialized).not.toContain("ada@");
    expect(stored[0]?.data).toEqual({
      customerId: "cust-1",
      plan: "gold",
      $pii: {
        v: 1,
        kid: "cust-1",
        fields: ["name", "email"],
        iv: expect.any(String),
        ct: expect.any(String),
        tag: expect.any(String),
      },
    });
    expect(stored[1]?.data).toMatchObject({ customerId: "cust-1", $pii: { v: 1, kid: "cust-1", fields: ["email"] } });
  });

  it("round trip: a fresh activation (new silo, same stores) replays the plaintext", async () => {
    const w = world();
    const first = await startSilo(w);
    await first.get(Customer, "cust-1").register("Ada", "ada@example.com");
    await first.get(Customer, "cust-1").changePlan("gold");
    await first.get(Customer, "cust-1").changeEmail("ada2@example.com");
    await first.stop();

    const second = await startSilo(w);

    expect(await second.get(Customer, "cust-1").profile()).toEqual({
      name: "Ada",
      email: "ada2@example.com",
      plan: "gold",
      emails: 2,
    });
  });

  it("the same event seals to the same bytes, so an idempotent re-send of an append stays a no-op", async () => {
    const keys = new KeyCache(new MemoryKeyStore());
    const rules = new PersonalDataRules([Customer]).forStream("Customer/c") ?? new Map();
    const event = {
      id: "01JABCDEFGHJKMNPQRSTVWXYZ0",
      type: "Registered",
      stream: "Customer/c",
      version: 1,
      schemaVersion: 1,
      data: { customerId: "c", name: "Ada", email: "a@b.c", plan: "basic" },
      metadata: { correlationId: "x", causationId: "x", commandId: "x" },
      timestamp: new Date(0).toISOString(),
    };
    const once = await sealEvents("Customer/c", [event], rules, keys);
    const twice = await sealEvents("Customer/c", [event], rules, keys);
    expect(twice).toEqual(once);

    const store = new EncryptingEventStore(new MemoryEventStore(), new PersonalDataRules([Customer]), keys);
    await store.append("Customer/c", 0, [event]);
    expect((await store.append("Customer/c", 0, [event])).duplicate).toBe(true);
  });
});

describe("crypto-shredding - forget", () => {
  it("after forget, replay shows the redaction marker in place of the personal fields; everything else is intact", async () => {
    const w = world();
    const silo = await startSilo(w);
    const ada = silo.get(Customer, "cust-1");
    await ada.register("Ada", "ada@example.com", "gold");
    await ada.changeEmail("ada2@example.com");
    await ada.changePlan("platinum");
    const before = await rawStore(w).read("Customer/cust-1");

    const result = await silo.forget("cust-1");

    expect(result).toMatchObject({ subject: "cust-1" });
    expect(await ada.profile()).toEqual({
      name: redacted("cust-1"),
      email: redacted("cust-1"),
      plan: "platinum",
      emails: 2,
    });
    const history = (await ada.history()) as { version: number; type: string; data: Record<string, unknown> }[];
    expect(history.map((e) => [e.version, e.type])).toEqual([
      [1, "Registered"],
      [2, "EmailChanged"],
      [3, "PlanChanged"],
    ]);
    expect(history[0]?.data).toEqual({
      customerId: "cust-1",
      name: { $redacted: "forgotten", subject: "cust-1" },
      email: { $redacted: "forgotten", subject: "cust-1" },
      plan: "gold",
    });
    expect(isRedacted(history[1]?.data.email)).toBe(true);
    // The log itself is untouched: same ids, versions and ciphertext.
    expect(await rawStore(w).read("Customer/cust-1")).toEqual(before);
  });

  it("the live activation stops serving plaintext: forget deactivates it, the next call rehydrates", async () => {
    const w = world();
    const silo = await startSilo(w);
    const ada = silo.get(Customer, "cust-1");
    await ada.register("Ada", "ada@example.com");
    expect(silo.activeActors()).toContain("Customer/cust-1");

    await silo.forget("cust-1");

    expect(silo.activeActors()).not.toContain("Customer/cust-1");
    expect((await ada.profile()).name).toEqual(redacted("cust-1"));
  });

  it("other subjects are untouched by a forget", async () => {
    const w = world();
    const silo = await startSilo(w);
    await silo.get(Customer, "cust-1").register("Ada", "ada@example.com");
    await silo.get(Customer, "cust-2").register("Grace", "grace@example.com");

    await silo.forget("cust-1");

    expect((await silo.get(Customer, "cust-2").profile()).name).toBe("Grace");
  });

  it("the store's feed (readAll, subscribe) and loadHistory show the marker, also on a silo started later", async () => {
    const w = world();
    const silo = await startSilo(w);
    await silo.get(Customer, "cust-1").register("Ada", "ada@example.com");
    await silo.forget("cust-1");
    await silo.stop();

    const later = await startSilo(w);
    const seen: RecordedEvent[] = [];
    const feed = new EncryptingEventStore(
      rawStore(w),
      new PersonalDataRules([Customer]),
      new KeyCache(new MemoryKeyStore({ storage: w.keys })),
    );
    const subscription = feed.subscribe({ fromPosition: 0, onEvent: (e) => void seen.push(e) });
    await expect.poll(() => seen.length).toBe(1);
    await subscription.close();

    expect(seen[0]?.data.name).toEqual(redacted("cust-1"));
    expect((await feed.readAll(0))[0]?.data.email).toEqual(redacted("cust-1"));
    expect((await later.get(Customer, "cust-1").profile()).email).toEqual(redacted("cust-1"));
  });

  it("personal data of a forgotten subject can no longer be recorded: SUBJECT_FORGOTTEN, nothing appended", async () => {
    const w = world();
    const silo = await startSilo(w);
    const ada = silo.get(Customer, "cust-1");
    await ada.register("Ada", "ada@example.com");
    await silo.forget("cust-1");

    const error = await ada.changeEmail("new@example.com").catch((e: unknown) => e);

    expect(isGranaryError(error, "SUBJECT_FORGOTTEN")).toBe(true);
    expect(await rawStore(w).latestVersion("Customer/cust-1")).toBe(1);
    // Events without personal fields still go through.
    await ada.changePlan("gold");
    expect(await rawStore(w).latestVersion("Customer/cust-1")).toBe(2);
  });

  it("forget is permanent and idempotent: a second forget returns the first destruction time", async () => {
    const w = world();
    const silo = await startSilo(w);
    await silo.get(Customer, "cust-1").register("Ada", "ada@example.com");

    const first = await silo.forget("cust-1");
    const second = await silo.forget("cust-1");

    expect(second).toEqual(first);
  });
});

describe("crypto-shredding - snapshots", () => {
  it("snapshots of an actor with personal data are sealed: no plaintext in the snapshot store, and they load", async () => {
    const w = world();
    const silo = await startSilo(w);
    const ada = silo.get(Customer, "cust-1");
    await ada.register("Ada", "ada@example.com");
    await ada.changePlan("gold");
    await silo.stop();

    const stored = await w.snapshots.load("Customer/cust-1");
    expect(stored?.version).toBe(2);
    expect(JSON.stringify(stored)).not.toContain("Ada");
    expect(stored?.state).toMatchObject({ $piiSnapshot: 1, subjects: ["cust-1"] });

    const again = await startSilo(w);
    expect(await again.get(Customer, "cust-1").profile()).toMatchObject({ name: "Ada", plan: "gold" });
  });

  it("forget invalidates the subject's snapshots: never loaded, deleted, and not written back on deactivation", async () => {
    const w = world();
    const silo = await startSilo(w);
    const ada = silo.get(Customer, "cust-1");
    await ada.register("Ada", "ada@example.com");
    await ada.changePlan("gold");
    await expect.poll(async () => (await w.snapshots.load("Customer/cust-1"))?.version).toBe(2);

    await silo.forget("cust-1");

    expect(await w.snapshots.load("Customer/cust-1")).toBeUndefined();
    expect((await ada.profile()).name).toEqual(redacted("cust-1"));
    await silo.stop();
    expect(await w.snapshots.load("Customer/cust-1")).toBeUndefined();
  });

  it("a snapshot taken after a restart lists every subject of the stream, also those of events before it", async () => {
    // Given a household whose first members were added on a silo that has stopped since
    const w = world();
    const first = await startSilo(w);
    await first.get(Household, "h-2").add("m-2", "Grace");
    await first.get(Household, "h-2").add("m-1", "Ada");
    await expect.poll(async () => (await w.snapshots.load("Household/h-2"))?.version).toBe(2);
    await first.stop();
    // When another silo activates it (from the sealed snapshot) and adds a member
    const later = await startSilo(w);
    await later.get(Household, "h-2").add("m-3", "Edith");
    // Then its next snapshot is bound to all three subjects, sorted
    await expect.poll(async () => (await w.snapshots.load("Household/h-2"))?.version).toBe(3);
    expect((await w.snapshots.load("Household/h-2"))?.state).toMatchObject({ subjects: ["m-1", "m-2", "m-3"] });
    // And forgetting the earliest one still makes it unreadable
    await later.forget("m-2");
    expect(await later.get(Household, "h-2").names()).toEqual([redacted("m-2"), "Ada", "Edith"]);
  });

  it("a snapshot involving several subjects is unreadable once ANY of them is forgotten", async () => {
    const w = world();
    const silo = await startSilo(w);
    const home = silo.get(Household, "h-1");
    await home.add("m-1", "Ada");
    await home.add("m-2", "Grace");
    await expect.poll(async () => (await w.snapshots.load("Household/h-1"))?.version).toBe(2);
    expect((await w.snapshots.load("Household/h-1"))?.state).toMatchObject({ subjects: ["m-1", "m-2"] });
    await silo.stop();
    const sealed = await w.snapshots.load("Household/h-1");

    const later = await startSilo(w);
    await later.forget("m-2");
    // Put the sealed snapshot back, as a stale replica could: it must still not be readable.
    if (sealed) await w.snapshots.save(sealed);

    expect(await later.get(Household, "h-1").names()).toEqual(["Ada", redacted("m-2")]);
    // The sealed snapshot was found unreadable and deleted; what is stored now no longer holds m-2's data.
    const now = await w.snapshots.load("Household/h-1");
    expect(now === undefined || JSON.stringify(now.state) !== JSON.stringify(sealed?.state)).toBe(true);
  });
});

describe("crypto-shredding - tampering and misconfiguration", () => {
  type Sealed = { $pii: { ct: string; fields: string[] } };
  async function tamper(w: World, change: (data: Sealed, events: RecordedEvent[]) => void) {
    const silo = await startSilo(w);
    await silo.get(Customer, "cust-1").register("Ada", "ada@example.com");
    await silo.get(Customer, "cust-1").changeEmail("ada2@example.com");
    await silo.stop();
    const stream = w.events.streams.get("default")?.get("Customer/cust-1") as unknown as { events: RecordedEvent[] };
    change(stream.events[0]?.data as unknown as Sealed, stream.events);
    await w.snapshots.delete("Customer/cust-1");
  }

  it("an altered ciphertext fails activation with CORRUPT_HISTORY naming stream, version and fields", async () => {
    const w = world();
    await tamper(w, (data) => {
      const ct = Buffer.from(data.$pii.ct, "base64");
      ct[0] = (ct[0] ?? 0) ^ 1;
      data.$pii = { ...data.$pii, ct: ct.toString("base64") };
    });
    const silo = await startSilo(w);

    const error = await profileError(silo);

    expect(isGranaryError(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(/CORRUPT_HISTORY|cannot be replayed/);
    expect(String((error as Error).message)).toContain('personal fields ["name","email"] of Registered');
    expect(String((error as Error).message)).toContain("version 1");
    expect(String((error as Error).message)).toContain("Customer/cust-1");
  });

  it("a ciphertext moved into another event fails authentication instead of decrypting there", async () => {
    const w = world();
    await tamper(w, (_data, events) => {
      const [first, second] = events as [RecordedEvent, RecordedEvent];
      (second.data as Record<string, unknown>).$pii = first.data.$pii;
    });
    const silo = await startSilo(w);

    const error = await profileError(silo);

    expect(String((error as Error).message)).toContain("authentication failed");
  });

  it("an edited field list fails authentication too", async () => {
    const w = world();
    await tamper(w, (data) => {
      data.$pii = { ...data.$pii, fields: ["email", "name"] };
    });
    const silo = await startSilo(w);

    const error = await profileError(silo);

    expect(isGranaryError(error)).toBe(true);
    expect(String((error as Error).message)).toContain("authentication failed");
  });

  it("a key store without the subject's key (wrong keyStore) is a clear CORRUPT_HISTORY, not garbage", async () => {
    const w = world();
    const silo = await startSilo(w);
    await silo.get(Customer, "cust-1").register("Ada", "ada@example.com");
    await silo.stop();
    await w.snapshots.delete("Customer/cust-1");

    const other = await startSilo(w, { keyStore: new MemoryKeyStore() });
    const error = await profileError(other);

    expect(String((error as Error).message)).toContain('no key for subject "cust-1"');
  });

  it("a declaration that names no fields or has no subject function fails at start", async () => {
    class Broken extends Customer {
      static override readonly type = "Broken";
      static override readonly personalData = { Registered: { subject: "customerId", fields: [] } } as never;
    }
    const error = await Silo.start({ actors: [Broken], logger: silent, store: new MemoryEventStore() }).catch(
      (e: unknown) => e,
    );
    expect(isGranaryError(error, "INVALID_CONFIGURATION")).toBe(true);
    expect((error as Error).message).toContain("Broken.personalData");
  });

  it("a custom durable store without keyStore is refused at start (keys must outlive the process)", async () => {
    const durable = new MemoryEventStore();
    // Any store that is not the in-memory one, e.g. an application's own adapter.
    const notMemory: EventStore = {
      append: (...a) => durable.append(...a),
      read: (...a) => durable.read(...a),
      readWithErrors: (...a) => durable.readWithErrors(...a),
      latestVersion: (s) => durable.latestVersion(s),
      highestEpoch: (s) => durable.highestEpoch(s),
      readAll: (...a) => durable.readAll(...a),
      subscribe: (o) => durable.subscribe(o),
      purge: (...a) => durable.purge(...a),
      tombstone: (s) => durable.tombstone(s),
      close: async () => {},
    };
    const error = await Silo.start({ actors: [Customer], logger: silent, store: notMemory }).catch((e: unknown) => e);
    expect(isGranaryError(error, "INVALID_CONFIGURATION")).toBe(true);
    expect((error as Error).message).toContain("keyStore");
  });

  it("forget on a silo without personal data or key store says so", async () => {
    const { Account } = await import("../__fixtures__/actors.js");
    const silo = await Silo.start({ actors: [Account], logger: silent, store: new MemoryEventStore() });
    silos.push(silo);
    const error = await silo.forget("cust-1").catch((e: unknown) => e);
    expect(isGranaryError(error, "INVALID_CONFIGURATION")).toBe(true);
  });

  it("declarations are typed against the event union", () => {
    const ok: PersonalData<CustomerEvent> = { EmailChanged: { subject: (e) => e.customerId, fields: ["email"] } };
    const wrongField: PersonalData<CustomerEvent> = {
      // @ts-expect-error "phone" is not a field of EmailChanged
      EmailChanged: { subject: (e) => e.customerId, fields: ["phone"] },
    };
    const wrongSubject: PersonalData<CustomerEvent> = {
      // @ts-expect-error PlanChanged has no customerId
      PlanChanged: { subject: (e) => e.customerId, fields: ["plan"] },
    };
    const wrongType: PersonalData<CustomerEvent> = {
      // @ts-expect-error "Deleted" is not an event type of Customer
      Deleted: { subject: () => "x", fields: [] },
    };
    expect([ok, wrongField, wrongSubject, wrongType]).toHaveLength(4);
  });
});

describe("crypto-shredding - the rest of the silo works on the encrypting store", () => {
  class PlanCounts extends DocumentProjection<{ n: number }, CustomerEvent> {
    static readonly projection = "plan-counts";
    static readonly events = ["Registered"];
    key(event: ProjectedEvent<CustomerEvent>) {
      return event.type === "Registered" ? event.data.plan : undefined;
    }
    initialDocument() {
      return { n: 0 };
    }
    apply(doc: { n: number }) {
      return { n: doc.n + 1 };
    }
  }

  it("projections run and correlated() answers, with personal fields decrypted (no store given for either)", async () => {
    const w = world();
    const silo = await startSilo(w, { projections: [PlanCounts] });
    await silo.get(Customer, "c-1").register("Ada", "ada@example.com", "gold");
    await silo.get(Customer, "c-2").register("Bob", "bob@example.com", "gold");

    expect(await silo.query(PlanCounts).get("gold", { waitForLatest: true })).toEqual({ n: 2 });
    const history = await silo.history(Customer, "c-1");
    const correlationId = history.events[0]?.metadata.correlationId as string;
    const page = await silo.correlated(correlationId);
    expect(page.events.map((e) => [e.stream, e.data])).toEqual([
      ["Customer/c-1", expect.objectContaining({ name: "Ada", email: "ada@example.com" })],
    ]);
  });
});
