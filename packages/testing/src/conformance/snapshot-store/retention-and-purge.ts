import { ErrorCode, type Snapshot, type SnapshotStore } from "@granary/core";
import { expect, it } from "vitest";
import { rejectionOf } from "../fixtures.js";

export function snapshotAt(stream: string, version: number, overrides: Partial<Snapshot> = {}): Snapshot {
  return {
    stream,
    version,
    snapshotVersion: 1,
    state: { balance: version * 10, owner: "ada", tags: ["a", "ü"], nested: { ok: true, none: null } },
    timestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, version)).toISOString(),
    ...overrides,
  };
}

const PURGE = { purgedAt: "2024-03-03T10:00:00.000Z", reason: "GDPR erasure request #42" };

/** Older snapshots stay readable through loadAtOrBelow (what stateAt starts from). */
export function snapshotRetentionTests(open: (namespace?: string) => Promise<SnapshotStore>): void {
  it("snapshots - loadAtOrBelow returns the newest snapshot at or below the version; older ones are kept", async () => {
    const store = await open();
    for (const version of [10, 20, 30]) await store.save(snapshotAt("Account/1", version));

    expect(await store.loadAtOrBelow("Account/1", 25, 1)).toEqual(snapshotAt("Account/1", 20));
    expect((await store.loadAtOrBelow("Account/1", 30, 1))?.version).toBe(30);
    expect((await store.loadAtOrBelow("Account/1", 1_000, 1))?.version).toBe(30);
    expect((await store.loadAtOrBelow("Account/1", 10, 1))?.version).toBe(10);
    expect(await store.loadAtOrBelow("Account/1", 9, 1)).toBeUndefined();
    expect(await store.loadAtOrBelow("Account/2", 100, 1)).toBeUndefined();
    expect((await store.load("Account/1"))?.version).toBe(30);
  });

  it("snapshots - loadAtOrBelow skips snapshots of another snapshotVersion", async () => {
    const store = await open();
    await store.save(snapshotAt("Account/1", 10, { snapshotVersion: 1 }));
    await store.save(snapshotAt("Account/1", 20, { snapshotVersion: 2 }));
    await store.save(snapshotAt("Account/1", 30, { snapshotVersion: 1 }));

    expect((await store.loadAtOrBelow("Account/1", 29, 1))?.version).toBe(10);
    expect((await store.loadAtOrBelow("Account/1", 29, 2))?.version).toBe(20);
    expect(await store.loadAtOrBelow("Account/1", 29, 3)).toBeUndefined();
  });

  it("snapshots - a save at a version already stored replaces that snapshot", async () => {
    const store = await open();
    await store.save(snapshotAt("Account/1", 10));
    await store.save(snapshotAt("Account/1", 20));

    await store.save(snapshotAt("Account/1", 10, { state: { replaced: true } }));

    expect((await store.loadAtOrBelow("Account/1", 15, 1))?.state).toEqual({ replaced: true });
    expect((await store.load("Account/1"))?.version).toBe(20);
  });

  it("snapshots - an older save is kept for loadAtOrBelow but load still returns the newest", async () => {
    const store = await open();
    await store.save(snapshotAt("Account/1", 20));

    await store.save(snapshotAt("Account/1", 10));

    expect((await store.load("Account/1"))?.version).toBe(20);
    expect((await store.loadAtOrBelow("Account/1", 15, 1))?.version).toBe(10);
  });

  it("snapshots - delete removes every snapshot of the stream", async () => {
    const store = await open();
    for (const version of [10, 20]) await store.save(snapshotAt("Account/1", version));

    await store.delete("Account/1");

    expect(await store.loadAtOrBelow("Account/1", 100, 1)).toBeUndefined();
  });
}

/** purge: the store itself refuses to write a purged stream's state back. */
export function snapshotPurgeTests(
  open: (namespace?: string) => Promise<SnapshotStore>,
  namespace: () => string,
): void {
  it("snapshot purge - removes every snapshot of the stream and leaves other streams", async () => {
    const store = await open();
    for (const version of [10, 20]) await store.save(snapshotAt("User/1", version));
    await store.save(snapshotAt("User/2", 5));

    await store.purge("User/1", PURGE);

    expect(await store.load("User/1")).toBeUndefined();
    expect(await store.loadAtOrBelow("User/1", 100, 1)).toBeUndefined();
    expect((await store.load("User/2"))?.version).toBe(5);
  });

  it("snapshot purge - a later save of the stream is refused with StreamPurgedError{stream, purgedAt, reason}", async () => {
    const store = await open();
    await store.save(snapshotAt("User/1", 10));
    await store.purge("User/1", PURGE);

    const error = await rejectionOf(store.save(snapshotAt("User/1", 11)));

    expect(error).toMatchObject({ code: ErrorCode.StreamPurged, stream: "User/1", reason: PURGE.reason });
    expect(await store.load("User/1")).toBeUndefined();
    await store.save(snapshotAt("User/2", 1));
    expect((await store.load("User/2"))?.version).toBe(1);
  });

  it("snapshot purge - saves racing the purge never leave a snapshot behind", async () => {
    const store = await open();
    const saves = Array.from({ length: 30 }, (_, i) => store.save(snapshotAt("User/1", i + 1)).catch(() => undefined));

    await Promise.all([...saves.slice(0, 15), store.purge("User/1", PURGE), ...saves.slice(15)]);

    expect(await store.load("User/1")).toBeUndefined();
    expect(await rejectionOf(store.save(snapshotAt("User/1", 99)))).toMatchObject({ code: ErrorCode.StreamPurged });
  });

  it("snapshot purge - the refusal survives re-opening the store, and purging twice is harmless", async () => {
    const store = await open();
    await store.purge("User/1", PURGE);
    await store.purge("User/1", { purgedAt: "2025-01-01T00:00:00.000Z", reason: "again" });
    await store.close();

    const reopened = await open();

    expect(await rejectionOf(reopened.save(snapshotAt("User/1", 1)))).toMatchObject({ code: ErrorCode.StreamPurged });
  });

  it("snapshot purge - namespaces are isolated: a purge in one does not refuse saves in another", async () => {
    const tenantA = await open();
    const tenantB = await open(`${namespace()}-other`);
    await tenantA.purge("User/1", PURGE);

    await tenantB.save(snapshotAt("User/1", 3));

    expect((await tenantB.load("User/1"))?.version).toBe(3);
  });
}
