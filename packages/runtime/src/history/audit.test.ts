import {
  ErrorCode,
  MAX_CALL_METADATA_BYTES,
  MemoryEventStore,
  MemoryKeyStore,
  MemorySnapshotStore,
} from "@granary/core";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Ledger, Teller } from "../__fixtures__/ledger.js";
import { Silo } from "../silo/silo.js";

const logger = pino({ level: "silent" });
const silos: Silo[] = [];

async function startSilo() {
  const store = new MemoryEventStore();
  const silo = await Silo.start({ actors: [Ledger, Teller], store, snapshots: new MemorySnapshotStore(), logger });
  silos.push(silo);
  return { silo, store };
}

afterEach(async () => {
  await Promise.all(silos.splice(0).map((s) => s.stop()));
});

describe("audit chain", () => {
  it("audit - every event records the method that raised it, the caller's metadata and the asserted userId", async () => {
    const { silo } = await startSilo();
    const ledger = silo.get(Ledger, "a", { userId: "clerk-9", metadata: { reason: "chargeback #123" } });

    await ledger.credit(50, "refund");
    await silo.get(Ledger, "a").rename("Ada");

    const [credit, rename] = (await silo.history(Ledger, "a")).events;
    expect(credit?.metadata).toMatchObject({
      method: "credit",
      userId: "clerk-9",
      callMetadata: { reason: "chargeback #123" },
    });
    expect(credit?.metadata.parentCallId).toBeUndefined();
    expect(rename?.metadata).toMatchObject({ method: "rename" });
    expect(rename?.metadata.callMetadata).toBeUndefined();
  });

  it("audit - events raised by a call from another actor record that actor's call id as parentCallId, and inherit its metadata", async () => {
    const { silo } = await startSilo();
    await silo.get(Ledger, "from").credit(100);

    await silo.get(Teller, "t", { metadata: { reason: "rent" }, correlationId: "req-7" }).transfer("from", "to", 30);

    const [teller] = (await silo.history(Teller, "t")).events;
    const debit = (await silo.history(Ledger, "from", { fromVersion: 2 })).events[0];
    const credit = (await silo.history(Ledger, "to")).events[0];
    expect(teller?.metadata).toMatchObject({ method: "transfer", callMetadata: { reason: "rent" } });
    expect(debit?.metadata).toMatchObject({
      method: "debit",
      parentCallId: teller?.metadata.commandId,
      correlationId: "req-7",
      callMetadata: { reason: "rent" },
    });
    expect(credit?.metadata).toMatchObject({ method: "credit", parentCallId: teller?.metadata.commandId });
  });

  it("audit - call metadata is checked like a payload: plain JSON, size-limited, with a clear error", async () => {
    const { silo } = await startSilo();
    const bad: [unknown, RegExp][] = [
      [["reason"], /must be a plain JSON object/],
      ["chargeback", /must be a plain JSON object/],
      [{ at: new Date() }, /not plain JSON at metadata\.at/],
      [{ n: Number.NaN }, /not plain JSON at metadata\.n/],
      [{ blob: "x".repeat(MAX_CALL_METADATA_BYTES) }, /bytes of JSON; at most 4096/],
    ];
    for (const [metadata, message] of bad) {
      let error: unknown;
      try {
        silo.get(Ledger, "a", { metadata: metadata as never });
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(metadata)).toMatchObject({ code: ErrorCode.InvalidArgument });
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe("correlated", () => {
  it("correlated - returns every event one request changed, across streams, in commit order, paged", async () => {
    const { silo } = await startSilo();
    await silo.get(Ledger, "from", { correlationId: "setup" }).credit(100);

    await silo.get(Teller, "t", { correlationId: "req-42" }).transfer("from", "to", 30);
    await silo.get(Ledger, "to", { correlationId: "other" }).credit(1);

    const all = await silo.correlated("req-42");
    const first = await silo.correlated("req-42", { limit: 2 });
    const rest = await silo.correlated("req-42", first.next);

    expect(all.events.map((e) => `${e.stream}:${e.type}`)).toEqual([
      "Ledger/from:Debited",
      "Ledger/to:Credited",
      "Teller/t:TransferRecorded",
    ]);
    expect(all.next).toBeUndefined();
    expect([...first.events, ...rest.events].map((e) => e.id)).toEqual(all.events.map((e) => e.id));
    await expect(silo.correlated("")).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
    await expect(silo.correlated("req-42", { limit: 0 })).rejects.toThrow(/`limit` must be an integer >= 1/);
  });

  it.each([
    ["a plain store", {}],
    ["a store sealed for crypto-shredding", { keyStore: new MemoryKeyStore() }],
  ])(
    "correlated - on %s that does not implement readCorrelated, is refused with INVALID_ARGUMENT saying so",
    async (_, options) => {
      // Given a store whose readCorrelated is missing (the port leaves it optional)
      const store = Object.assign(new MemoryEventStore(), { readCorrelated: undefined });
      const silo = await Silo.start({ actors: [Ledger, Teller], store, logger, ...options });
      silos.push(silo);

      // When a correlated read is asked for, then it is refused, naming the missing method
      const refused = expect(silo.correlated("req-42")).rejects;
      await refused.toMatchObject({ code: ErrorCode.InvalidArgument });
      await expect(silo.correlated("req-42")).rejects.toThrow(/does not implement readCorrelated/);
    },
  );
});
