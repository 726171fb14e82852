import { DATA_KEY_BYTES, isGranaryError, type KeyStore } from "@granary/core";
import { describe, expect, it } from "vitest";
import { useStoreSuite } from "./suite-lifecycle.js";

/** How the key store conformance suite reaches a store; same contract as the event store factory. */
export interface KeyStoreFactory {
  /** Opens a store on the current database; may be called several times per test (namespaces, re-open). */
  open(options: { readonly namespace: string }): Promise<KeyStore>;
  reset?(): Promise<void>;
  teardown?(): Promise<void>;
  /**
   * Everything the store's database holds, as bytes (a database file with its WAL, a dump of the
   * tables, every Redis value): the suite checks that a destroyed key's bytes are no longer there.
   * Stores that cannot provide it omit it and that check is skipped.
   */
  dump?(): Promise<Uint8Array>;
  /** The store offers `watchDestroyed` across instances on the same data; the suite then checks it. */
  readonly watchesDestroyed?: boolean;
}

function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(
    Buffer.from(needle.buffer, needle.byteOffset, needle.byteLength),
  );
}

/**
 * Registers the KeyStore conformance suite (vitest): one key per subject even under concurrent
 * creation, destroy is permanent and remembered across re-opening, destroyed key bytes leave the
 * store, namespaces are isolated.
 *
 * @example
 * keyStoreConformance("MemoryKeyStore", { open: async ({ namespace }) => new MemoryKeyStore({ namespace, storage }) });
 */
export function keyStoreConformance(name: string, factory: KeyStoreFactory): void {
  describe(`${name} - KeyStore conformance`, () => {
    const suite = useStoreSuite(factory);
    const open = (namespace?: string): Promise<KeyStore> => suite.open(namespace);

    it("keys - getOrCreate creates a random 32-byte key, and returns the same key afterwards", async () => {
      const store = await open();

      const first = await store.getOrCreate("cust-1");
      const again = await store.getOrCreate("cust-1");
      const other = await store.getOrCreate("cust-2");

      expect(first.status).toBe("active");
      if (first.status !== "active" || again.status !== "active" || other.status !== "active") return;
      expect(first.subject).toBe("cust-1");
      expect(first.key).toBeInstanceOf(Uint8Array);
      expect(first.key.byteLength).toBe(DATA_KEY_BYTES);
      expect(Buffer.from(again.key).equals(Buffer.from(first.key))).toBe(true);
      expect(Buffer.from(other.key).equals(Buffer.from(first.key))).toBe(false);
      expect(new Date(first.createdAt).toISOString()).toBe(first.createdAt);
    });

    it("keys - get of a subject that never had a key is undefined and creates nothing", async () => {
      const store = await open();

      expect(await store.get("nobody")).toBeUndefined();
      expect(await store.get("nobody")).toBeUndefined();
    });

    it("keys - get returns the key getOrCreate created", async () => {
      const store = await open();
      const created = await store.getOrCreate("cust-1");

      const found = await store.get("cust-1");

      expect(found).toEqual(created);
    });

    it("keys - concurrent getOrCreate from two store instances agree on one key", async () => {
      const a = await open();
      const b = await open();

      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).getOrCreate("racing-subject")),
      );

      const keys = new Set(results.map((r) => (r.status === "active" ? Buffer.from(r.key).toString("hex") : "none")));
      expect(keys.size).toBe(1);
      expect(keys.has("none")).toBe(false);
    });

    it("keys - mutating a returned key does not change the stored key", async () => {
      const store = await open();
      const created = await store.getOrCreate("cust-1");
      if (created.status !== "active") throw new Error("expected an active key");
      const original = Buffer.from(created.key).toString("hex");

      created.key.fill(7);

      const again = await store.get("cust-1");
      expect(again?.status === "active" && Buffer.from(again.key).toString("hex")).toBe(original);
    });

    it("keys - destroy is permanent: get and getOrCreate return destroyed, never a new key", async () => {
      const store = await open();
      await store.getOrCreate("cust-1");

      const destroyed = await store.destroy("cust-1");

      expect(destroyed).toMatchObject({ status: "destroyed", subject: "cust-1" });
      expect(new Date(destroyed.destroyedAt).toISOString()).toBe(destroyed.destroyedAt);
      expect(await store.get("cust-1")).toEqual(destroyed);
      expect(await store.getOrCreate("cust-1")).toEqual(destroyed);
      expect(await store.get("cust-1")).toEqual(destroyed);
    });

    it("keys - destroy is idempotent and keeps the first destruction time", async () => {
      const store = await open();
      await store.getOrCreate("cust-1");
      const first = await store.destroy("cust-1");

      const second = await store.destroy("cust-1");

      expect(second).toEqual(first);
    });

    it("keys - a subject destroyed before it had a key can never get one", async () => {
      const store = await open();

      const destroyed = await store.destroy("never-seen");

      expect(destroyed.status).toBe("destroyed");
      expect(await store.getOrCreate("never-seen")).toEqual(destroyed);
    });

    it("keys - destroying one subject leaves the others' keys", async () => {
      const store = await open();
      const kept = await store.getOrCreate("cust-2");
      await store.getOrCreate("cust-1");

      await store.destroy("cust-1");

      expect(await store.get("cust-2")).toEqual(kept);
    });

    it("keys - keys and destructions survive closing and re-opening the store", async () => {
      const store = await open();
      const kept = await store.getOrCreate("cust-2");
      await store.getOrCreate("cust-1");
      const destroyed = await store.destroy("cust-1");
      await store.close();

      const reopened = await open();

      expect(await reopened.get("cust-2")).toEqual(kept);
      expect(await reopened.getOrCreate("cust-1")).toEqual(destroyed);
    });

    it("keys - destroy waits for a getOrCreate racing it: afterwards nobody gets a key", async () => {
      const a = await open();
      const b = await open();
      await a.getOrCreate("cust-1");

      await Promise.all([b.destroy("cust-1"), a.getOrCreate("cust-1"), b.getOrCreate("cust-1")]);

      expect((await a.getOrCreate("cust-1")).status).toBe("destroyed");
      expect((await b.get("cust-1"))?.status).toBe("destroyed");
    });

    it("keys - namespaces are isolated: the same subject has separate keys and destruction", async () => {
      const tenantA = await open();
      const tenantB = await open(`${suite.namespace}-other`);
      const keyA = await tenantA.getOrCreate("cust-1");

      expect(await tenantB.get("cust-1")).toBeUndefined();
      const keyB = await tenantB.getOrCreate("cust-1");
      await tenantB.destroy("cust-1");

      expect(
        keyA.status === "active" && keyB.status === "active" && Buffer.from(keyA.key).equals(Buffer.from(keyB.key)),
      ).toBe(false);
      expect(await tenantA.get("cust-1")).toEqual(keyA);
    });

    it("keys - subject ids may hold any characters", async () => {
      const store = await open();
      const subjects = ["a/b", "ü ñ 🙂", "x:y", "'; DROP TABLE keys; --", "%_*?[]"];

      for (const subject of subjects) await store.getOrCreate(subject);
      await store.destroy("x:y");

      for (const subject of subjects) {
        expect((await store.get(subject))?.status).toBe(subject === "x:y" ? "destroyed" : "active");
      }
    });

    it("keys - an empty subject id is refused with INVALID_ARGUMENT", async () => {
      const store = await open();

      for (const call of [() => store.getOrCreate(""), () => store.get(""), () => store.destroy("")]) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isGranaryError(error, "INVALID_ARGUMENT")).toBe(true);
      }
    });

    it.skipIf(!factory.watchesDestroyed)(
      "keys - watchDestroyed hears a destroy made through another instance, in its namespace only",
      async () => {
        const watcher = await open();
        const writer = await open();
        const elsewhere = await open(`${suite.namespace}-other`);
        const heard: [string, string][] = [];
        const stop = watcher.watchDestroyed?.((subject, destroyedAt) => heard.push([subject, destroyedAt]));
        expect(stop, "watchDestroyed is offered").toBeTypeOf("function");
        // The watch may take a moment to be set up (a LISTEN, a SUBSCRIBE): destroy until heard.
        await expect
          .poll(
            async () => {
              await writer.destroy("cust-w");
              return heard.some(([subject]) => subject === "cust-w");
            },
            { timeout: 10_000, interval: 100 },
          )
          .toBe(true);
        const destroyed = await writer.get("cust-w");
        expect(heard.find(([subject]) => subject === "cust-w")?.[1]).toBe(
          destroyed?.status === "destroyed" ? destroyed.destroyedAt : "",
        );
        await elsewhere.destroy("cust-x");
        await writer.destroy("cust-y");
        await expect.poll(() => heard.some(([subject]) => subject === "cust-y"), { timeout: 10_000 }).toBe(true);
        expect(heard.some(([subject]) => subject === "cust-x")).toBe(false);
        stop?.();
      },
    );

    it.skipIf(!factory.dump)("keys - a destroyed key's bytes are gone from the store's data", async () => {
      const store = await open();
      const doomed = await store.getOrCreate("doomed");
      const kept = await store.getOrCreate("kept");
      if (doomed.status !== "active" || kept.status !== "active") throw new Error("expected active keys");
      const dump = factory.dump as () => Promise<Uint8Array>;
      expect(containsBytes(await dump(), doomed.key)).toBe(true);

      await store.destroy("doomed");

      const after = await dump();
      expect(containsBytes(after, doomed.key)).toBe(false);
      expect(containsBytes(after, kept.key)).toBe(true);
    });
  });
}
