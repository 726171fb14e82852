import type { Directory } from "@granary/core";
import { describe, expect, it } from "vitest";
import { useSuiteLifecycle } from "./suite-lifecycle.js";

/** One silo's view of a directory, with the means to make silos live or dead. */
export interface DirectoryHarness {
  readonly directory: Directory;
  /** Makes the silo a live member of the cluster (e.g. joins membership with a long lease). */
  join(siloId: string): Promise<void>;
  /**
   * Lets the silo's lease expire without removing it from membership; resolves once the silo is no
   * longer live. Entries it owns stay until someone takes them over or calls removeSilo.
   */
  expire(siloId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * How the directory conformance suite reaches an implementation.
 *
 * @example
 * directoryConformance("RedisDirectory", {
 *   open: async (cluster) => {
 *     const directory = new RedisDirectory({ redis: url, cluster });
 *     const membership = new RedisMembership({ redis: url, cluster });
 *     return { directory, join: ..., expire: ..., close: ... };
 *   },
 * });
 */
export interface DirectoryFactory {
  /**
   * Opens the directory of `cluster` (the suite uses a fresh name per test). Opening the same
   * cluster twice must give two views of the same directory, as two silos have.
   */
  open(cluster: string): Promise<DirectoryHarness>;
  teardown?(): Promise<void>;
}

/**
 * Registers the Directory conformance suite (vitest): register never overwrites a live owner and
 * returns the winner, takeover from dead owners, ever-growing epochs, owner-only unregister,
 * removeSilo, and racing registrations.
 */
export function directoryConformance(name: string, factory: DirectoryFactory): void {
  describe(`${name} - Directory conformance`, () => {
    const suite = useSuiteLifecycle(
      factory,
      (cluster) => factory.open(cluster),
      (h) => h.close(),
    );
    const open = (): Promise<DirectoryHarness> => suite.open();

    it("directory - register of an unowned actor makes the caller the owner", async () => {
      const { directory, join } = await open();
      await join("silo-a");

      const entry = await directory.register("Account/1", "silo-a", "act-1");

      expect(entry).toMatchObject({ actorKey: "Account/1", siloId: "silo-a", activationId: "act-1" });
      expect(entry.epoch).toBeGreaterThan(0);
      expect(await directory.lookup("Account/1")).toEqual(entry);
    });

    it("directory - a second register returns the live owner", async () => {
      const { directory, join } = await open();
      await join("silo-a");
      await join("silo-b");
      const first = await directory.register("Account/1", "silo-a", "act-1");

      const second = await directory.register("Account/1", "silo-b", "act-2");
      const again = await directory.register("Account/1", "silo-a", "act-1");

      expect(second).toEqual(first);
      expect(again).toEqual(first);
      expect(await directory.lookup("Account/1")).toEqual(first);
    });

    it("directory - register takes over an entry whose owner's lease expired", async () => {
      const { directory, join, expire } = await open();
      await join("silo-a");
      await join("silo-b");
      const first = await directory.register("Account/1", "silo-a", "act-1");

      await expire("silo-a");
      const takeover = await directory.register("Account/1", "silo-b", "act-2");

      expect(takeover).toMatchObject({ siloId: "silo-b", activationId: "act-2" });
      expect(takeover.epoch).toBeGreaterThan(first.epoch);
      expect(await directory.lookup("Account/1")).toEqual(takeover);
    });

    it("directory - lookup of an unknown actor, or of one whose owner's lease expired, is undefined", async () => {
      const { directory, join, expire } = await open();
      await join("silo-a");
      await directory.register("Account/1", "silo-a", "act-1");

      expect(await directory.lookup("Account/none")).toBeUndefined();
      await expire("silo-a");
      expect(await directory.lookup("Account/1")).toBeUndefined();
    });

    it("directory - every registration issues a larger epoch, also after the entry was removed", async () => {
      const { directory, join, expire } = await open();
      await join("silo-a");
      await join("silo-b");
      const epochs: number[] = [];

      const first = await directory.register("Account/1", "silo-a", "act-1");
      epochs.push(first.epoch);
      await directory.unregister("Account/1", "act-1");
      epochs.push((await directory.register("Account/1", "silo-a", "act-2")).epoch);
      await directory.removeSilo("silo-a");
      epochs.push((await directory.register("Account/1", "silo-b", "act-3")).epoch);
      await expire("silo-b");
      await join("silo-a");
      epochs.push((await directory.register("Account/1", "silo-a", "act-4")).epoch);
      for (let i = 0; i < 5; i++) {
        await directory.unregister("Account/1", `act-${4 + i}`);
        epochs.push((await directory.register("Account/1", "silo-a", `act-${5 + i}`)).epoch);
      }

      for (let i = 1; i < epochs.length; i++) expect(epochs[i]).toBeGreaterThan(epochs[i - 1] as number);
    });

    it("directory - epochs of different actors are independent of each other's entries", async () => {
      const { directory, join } = await open();
      await join("silo-a");

      const a = await directory.register("Account/1", "silo-a", "act-1");
      const b = await directory.register("Account/2", "silo-a", "act-2");

      expect(await directory.lookup("Account/1")).toEqual(a);
      expect(await directory.lookup("Account/2")).toEqual(b);
    });

    it("directory - unregister by a non-owner activation is a no-op", async () => {
      const { directory, join } = await open();
      await join("silo-a");
      const entry = await directory.register("Account/1", "silo-a", "act-1");

      expect(await directory.unregister("Account/1", "act-stale")).toBe(false);
      expect(await directory.unregister("Account/none", "act-1")).toBe(false);

      expect(await directory.lookup("Account/1")).toEqual(entry);
    });

    it("directory - unregister by the owner activation removes the entry", async () => {
      const { directory, join } = await open();
      await join("silo-a");
      await directory.register("Account/1", "silo-a", "act-1");

      expect(await directory.unregister("Account/1", "act-1")).toBe(true);

      expect(await directory.lookup("Account/1")).toBeUndefined();
      expect(await directory.unregister("Account/1", "act-1")).toBe(false);
    });

    it("directory - removeSilo removes only that silo's entries and returns how many", async () => {
      const { directory, join } = await open();
      await join("silo-a");
      await join("silo-b");
      for (let i = 0; i < 5; i++) await directory.register(`A/${i}`, "silo-a", `act-a-${i}`);
      const kept = await directory.register("B/0", "silo-b", "act-b-0");

      const removed = await directory.removeSilo("silo-a");

      expect(removed).toBe(5);
      for (let i = 0; i < 5; i++) expect(await directory.lookup(`A/${i}`)).toBeUndefined();
      expect(await directory.lookup("B/0")).toEqual(kept);
      expect(await directory.removeSilo("silo-a")).toBe(0);
    });

    it("directory - removeSilo of a dead silo leaves the entries another silo took over", async () => {
      const { directory, join, expire } = await open();
      await join("silo-a");
      await join("silo-b");
      await directory.register("Account/1", "silo-a", "act-1");
      await directory.register("Account/2", "silo-a", "act-2");
      await expire("silo-a");
      const takeover = await directory.register("Account/1", "silo-b", "act-3");

      const removed = await directory.removeSilo("silo-a");

      expect(removed).toBe(1);
      expect(await directory.lookup("Account/1")).toEqual(takeover);
    });

    it("directory - of 20 concurrent registers from different silos exactly one wins and all see it", async () => {
      const views = [await open(), await open(), await open(), await open()];
      const silos = Array.from({ length: 20 }, (_, i) => `silo-${i}`);
      for (const silo of silos) await (views[0] as DirectoryHarness).join(silo);

      const results = await Promise.all(
        silos.map((silo, i) =>
          (views[i % views.length] as DirectoryHarness).directory.register("Hot/1", silo, `act-${i}`),
        ),
      );

      const winners = new Set(results.map((r) => `${r.siloId}/${r.activationId}/${r.epoch}`));
      expect(winners.size).toBe(1);
      const [winner] = results;
      expect(silos.indexOf(winner?.siloId as string)).toBe(Number(winner?.activationId.slice(4)));
      for (const view of views) expect(await view.directory.lookup("Hot/1")).toEqual(winner);
    });
  });
}
