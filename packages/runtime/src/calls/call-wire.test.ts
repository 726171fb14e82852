import { decode, encode } from "@granary/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CallContext, CallRequest } from "./call-context.js";
import { CALL, callMessage, hopsOf, parseCallRequest } from "./call-wire.js";

function request(context: Partial<CallContext> & { callId: string }, args: unknown[] = [5, "x"]): CallRequest {
  return {
    actorType: "Account",
    actorId: "acc-1",
    method: "deposit",
    args,
    context: { chain: [context.callId], correlationId: context.callId, ...context },
    timeoutMs: 30_000,
  };
}

/** What the peer sees: the frame through the codec, as the transport carries it. */
function overTheWire(req: CallRequest, hops: number): unknown {
  return decode(encode(callMessage(req, hops)));
}

describe("call wire form", () => {
  it("round trip - every field of a call survives, whichever optional fields are set", () => {
    const id = fc.string({ minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(
        id,
        fc.array(id, { maxLength: 3 }),
        fc.option(id, { nil: undefined }),
        fc.option(id, { nil: undefined }),
        fc.option(id, { nil: undefined }),
        // Call metadata with a "__proto__" key is refused at the reference (assertCallMetadata).
        fc.option(
          fc.dictionary(
            id.filter((key) => key !== "__proto__"),
            id,
            { maxKeys: 3, noNullPrototype: true },
          ),
          { nil: undefined },
        ),
        (callId, ancestors, correlationId, userId, traceparent, metadata) => {
          const context: CallContext = {
            callId,
            chain: [...ancestors, callId],
            correlationId: correlationId ?? callId,
            ...(userId === undefined ? {} : { userId }),
            ...(traceparent === undefined ? {} : { traceparent }),
            ...(metadata === undefined ? {} : { metadata }),
          };
          const sent: CallRequest = { ...request({ callId }), context };
          const frame = overTheWire(sent, 2);
          expect(parseCallRequest(frame)).toStrictEqual(sent);
          expect(hopsOf(frame as unknown[])).toBe(2);
        },
      ),
    );
  });

  it("compact - a call that starts a chain carries no chain, no correlation id and no empty fields", () => {
    const frame = callMessage(request({ callId: "c1" }), 0);
    expect(frame).toEqual([CALL, 0, "Account", "acc-1", "deposit", [5, "x"], 30_000, "c1"]);
    expect(callMessage(request({ callId: "c2", userId: "u" }), 1)).toEqual([
      CALL,
      1,
      "Account",
      "acc-1",
      "deposit",
      [5, "x"],
      30_000,
      "c2",
      null,
      null,
      "u",
    ]);
    expect(callMessage(request({ callId: "c3", chain: ["c0", "c3"], correlationId: "c0" }), 0).slice(8)).toEqual([
      ["c0", "c3"],
      "c0",
    ]);
  });

  it("validation - anything but a call frame is an InvalidArgumentError, before it reaches the catalog", () => {
    const good = callMessage(request({ callId: "c1" }), 0);
    const bad: unknown[] = [
      undefined,
      null,
      "call",
      { k: "call", req: request({ callId: "c1" }), hops: 0 },
      [],
      good.slice(0, 7),
      [...good, null, null, null, null, null, null, null],
      [...good, null, null, null, null, null, ["not", "an", "object"]],
      [...good, null, null, null, null, null, { at: Number.NaN }],
      [2, ...good.slice(1)],
      good.map((v, i) => (i === 1 ? "0" : v)),
      good.map((v, i) => (i === 2 ? 7 : v)),
      good.map((v, i) => (i === 3 ? null : v)),
      good.map((v, i) => (i === 4 ? ["deposit"] : v)),
      good.map((v, i) => (i === 5 ? { 0: 5 } : v)),
      good.map((v, i) => (i === 6 ? "30000" : v)),
      good.map((v, i) => (i === 7 ? 1 : v)),
      [...good, "c1"],
      [...good, []],
      [...good, ["c0", 1]],
      [...good, null, 5],
      [...good, null, null, false],
      [...good, null, null, null, {}],
      [...good, null, null, null, null, 7],
      [...good, null, null, null, null, ""],
    ];
    for (const payload of bad) {
      expect(() => parseCallRequest(payload), JSON.stringify(payload)).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT" }),
      );
    }
    expect(parseCallRequest(good).context).toStrictEqual({ callId: "c1", chain: ["c1"], correlationId: "c1" });
  });
});
