import type { Membership, MembershipChange, SiloAddress } from "@granary/core";
import { describe, expect, it } from "vitest";
import { eventually } from "./fixtures.js";
import { useSuiteLifecycle } from "./suite-lifecycle.js";

/**
 * How the membership conformance suite reaches an implementation. Opening the same cluster twice
 * must give two views of the same membership (two silos).
 */
export interface MembershipFactory {
  open(cluster: string): Promise<Membership>;
  teardown?(): Promise<void>;
}

/** A lease no test outlives, and one that is over almost at once. */
const LONG_LEASE_MS = 120_000;
const SHORT_LEASE_MS = 50;

function silo(siloId: string, port = 11_111): SiloAddress {
  return { siloId, host: "127.0.0.1", port, startedAt: 1_700_000_000_000 + port };
}

/**
 * Registers the Membership conformance suite (vitest): leases, renew after removal, removal of the
 * dead, and watch.
 */
export function membershipConformance(name: string, factory: MembershipFactory): void {
  describe(`${name} - Membership conformance`, () => {
    const suite = useSuiteLifecycle(
      factory,
      (cluster) => factory.open(cluster),
      (m) => m.close(),
    );
    const open = (): Promise<Membership> => suite.open();
    const liveIds = async (membership: Membership): Promise<string[]> =>
      (await membership.liveMembers()).map((m) => m.siloId).sort();

    it("membership - a joined member is live with its address and a lease expiry", async () => {
      const membership = await open();

      await membership.join(silo("silo-a", 1), LONG_LEASE_MS);

      const [member] = await membership.liveMembers();
      expect(member).toMatchObject(silo("silo-a", 1));
      expect(member?.leaseExpiresAt).toEqual(expect.any(Number));
    });

    it("membership - other silos see a member join", async () => {
      const a = await open();
      const b = await open();

      await a.join(silo("silo-a", 1), LONG_LEASE_MS);
      await b.join(silo("silo-b", 2), LONG_LEASE_MS);

      expect(await liveIds(a)).toEqual(["silo-a", "silo-b"]);
      expect(await liveIds(b)).toEqual(["silo-a", "silo-b"]);
    });

    it("membership - a member whose lease expired is not live, even before anyone removes it", async () => {
      const membership = await open();
      await membership.join(silo("silo-a", 1), LONG_LEASE_MS);

      await membership.join(silo("silo-b", 2), SHORT_LEASE_MS);

      await eventually(async () => !(await liveIds(membership)).includes("silo-b"), "silo-b's lease expired");
      expect(await liveIds(membership)).toEqual(["silo-a"]);
    });

    it("membership - renew keeps a live member live and returns true", async () => {
      const membership = await open();
      await membership.join(silo("silo-a"), LONG_LEASE_MS);

      expect(await membership.renew("silo-a", LONG_LEASE_MS)).toBe(true);

      expect(await liveIds(membership)).toEqual(["silo-a"]);
    });

    it("membership - renew after the member was removed returns false (the silo must self-fence)", async () => {
      const membership = await open();
      await membership.join(silo("silo-a", 1), SHORT_LEASE_MS);
      await membership.join(silo("silo-b", 2), LONG_LEASE_MS);
      await eventually(async () => (await membership.removeExpired()).includes("silo-a"), "silo-a was removed");

      expect(await membership.renew("silo-a", LONG_LEASE_MS)).toBe(false);
      await membership.leave("silo-b");
      expect(await membership.renew("silo-b", LONG_LEASE_MS)).toBe(false);
      expect(await membership.renew("silo-never", LONG_LEASE_MS)).toBe(false);
      expect(await liveIds(membership)).toEqual([]);
    });

    it("membership - renew after the lease expired returns false, even if nobody removed the member yet", async () => {
      const membership = await open();
      await membership.join(silo("silo-a"), SHORT_LEASE_MS);
      await eventually(async () => (await liveIds(membership)).length === 0, "silo-a's lease expired");

      expect(await membership.renew("silo-a", LONG_LEASE_MS)).toBe(false);

      expect(await liveIds(membership)).toEqual([]);
    });

    it("membership - removeExpired removes only expired members and returns their ids", async () => {
      const membership = await open();
      await membership.join(silo("silo-a", 1), LONG_LEASE_MS);
      await membership.join(silo("silo-b", 2), SHORT_LEASE_MS);
      await eventually(async () => (await liveIds(membership)).length === 1, "silo-b's lease expired");

      expect(await membership.removeExpired()).toEqual(["silo-b"]);

      expect(await membership.removeExpired()).toEqual([]);
      expect(await liveIds(membership)).toEqual(["silo-a"]);
    });

    it("membership - a member that left is no longer live and can join again", async () => {
      const membership = await open();
      await membership.join(silo("silo-a"), LONG_LEASE_MS);

      await membership.leave("silo-a");
      expect(await liveIds(membership)).toEqual([]);
      await membership.leave("silo-a");

      await membership.join(silo("silo-a"), LONG_LEASE_MS);
      expect(await liveIds(membership)).toEqual(["silo-a"]);
    });

    it("membership - watch reports the current members as joined, then joins, leaves and deaths", async () => {
      const observer = await open();
      const other = await open();
      await other.join(silo("silo-old", 1), LONG_LEASE_MS);
      const changes: MembershipChange[] = [];
      const stop = observer.watch((change) => changes.push(change));
      const seen = (kind: string, siloId: string) => () =>
        changes.some((c) => c.kind === kind && (c.kind === "joined" ? c.member.siloId : c.siloId) === siloId);
      await eventually(seen("joined", "silo-old"), "the existing member was reported");

      await other.join(silo("silo-a", 2), LONG_LEASE_MS);
      await eventually(seen("joined", "silo-a"), "the join was reported");
      await other.leave("silo-a");
      await eventually(seen("left", "silo-a"), "the leave was reported");
      await other.join(silo("silo-b", 3), SHORT_LEASE_MS);
      await eventually(async () => (await other.removeExpired()).includes("silo-b"), "silo-b was removed");
      await eventually(seen("died", "silo-b"), "the death was reported");

      stop();
      const joinedB = changes.find((c) => c.kind === "joined" && c.member.siloId === "silo-b");
      if (joinedB?.kind === "joined") expect(joinedB.member).toMatchObject(silo("silo-b", 3));
      // Each change is reported once.
      const keys = changes.map((c) => `${c.kind}:${c.kind === "joined" ? c.member.siloId : c.siloId}`);
      expect(new Set(keys).size).toBe(keys.length);
    });

    it("membership - watch reports a member whose lease expired as died, even if nobody removed it", async () => {
      const observer = await open();
      await observer.join(silo("silo-a"), LONG_LEASE_MS);
      const changes: MembershipChange[] = [];
      const stop = observer.watch((change) => changes.push(change));
      await eventually(() => changes.length === 1, "the member was reported");

      await observer.join(silo("silo-a"), SHORT_LEASE_MS);
      await eventually(() => changes.some((c) => c.kind === "died" && c.siloId === "silo-a"), "the death was reported");

      stop();
    });

    it("membership - after unsubscribing, the listener hears nothing more", async () => {
      const observer = await open();
      const changes: MembershipChange[] = [];
      const stop = observer.watch((change) => changes.push(change));
      await observer.join(silo("silo-a", 1), LONG_LEASE_MS);
      await eventually(() => changes.length === 1, "the join was reported");

      stop();
      await observer.join(silo("silo-b", 2), LONG_LEASE_MS);
      // A second watcher proves the join was announced, so the first had its chance.
      const probe: MembershipChange[] = [];
      const stopProbe = observer.watch((change) => probe.push(change));
      await eventually(() => probe.length === 2, "the probe saw both members");
      stopProbe();

      expect(changes).toHaveLength(1);
    });
  });
}
