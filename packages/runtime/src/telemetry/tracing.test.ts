import { MemoryDirectory, MemoryEventStore, MemoryMembership, MemorySnapshotStore } from "@granary/core";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Account } from "../__fixtures__/actors.js";
import { Client } from "../client/client.js";
import { Silo } from "../silo/silo.js";
import { parseTraceparent, traceparentOf } from "./call-tracing.js";

const exporter = new InMemorySpanExporter();
const logger = pino({ level: "silent" });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});
afterAll(() => {
  trace.disable();
  context.disable();
});

describe("tracing", () => {
  it("traceparent round-trips and rejects malformed or all-zero ids", () => {
    const spanContext = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 };
    const text = traceparentOf(spanContext);
    expect(text).toBe("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    expect(parseTraceparent(text)).toMatchObject(spanContext);
    expect(parseTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01")).toBeUndefined();
    expect(parseTraceparent("garbage")).toBeUndefined();
  });

  it("a call's span is a child of the caller's span, and its events carry the trace in their metadata", async () => {
    const store = new MemoryEventStore();
    const silo = await Silo.start({ actors: [Account], store, snapshots: new MemorySnapshotStore(), logger });
    const tracer = trace.getTracer("test");
    const parent = tracer.startSpan("http POST /deposit");
    await context.with(trace.setSpan(context.active(), parent), () => silo.get(Account, "t1").deposit(3));
    parent.end();
    await silo.stop();
    const [event] = await store.read("Account/t1");
    const callSpan = exporter.getFinishedSpans().find((s) => s.name === "Account.deposit");
    expect(callSpan?.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(callSpan?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(event?.metadata).toMatchObject({
      traceId: parent.spanContext().traceId,
      spanId: callSpan?.spanContext().spanId,
    });
    const append = exporter.getFinishedSpans().find((s) => s.name === "granary.append");
    expect(append?.parentSpanContext?.spanId).toBe(callSpan?.spanContext().spanId);
  });

  it("W3C trace context travels with a call from a client through a gateway to the owner silo", async () => {
    exporter.reset();
    const CALLS = 24;
    const membership = new MemoryMembership();
    const directory = new MemoryDirectory({ isLive: (id) => membership.isLive(id) });
    const store = new MemoryEventStore();
    const common = { actors: [Account], store, snapshots: new MemorySnapshotStore(), membership, directory, logger };
    const key = "tracing-test-cluster-key-0123456789";
    const silos = [
      await Silo.start({ ...common, clusterKey: key, port: 0, placement: "hash" }),
      await Silo.start({ ...common, clusterKey: key, port: 0, placement: "hash" }),
    ];
    const client = await Client.connect({ membership, clusterKey: key });
    const root = trace.getTracer("test").startSpan("job");
    await context.with(trace.setSpan(context.active(), root), async () => {
      // 24 new actors on 2 silos: the client's gateway is not the owner for some of them (each first
      // call goes to a random gateway; with 6 calls all went straight to their owner 1.6% of the time).
      for (let i = 0; i < CALLS; i++) await client.get(Account, `x${i}`).deposit(1);
    });
    root.end();
    await client.close();
    await Promise.all(silos.map((s) => s.stop()));
    const traceId = root.spanContext().traceId;
    for (let i = 0; i < CALLS; i++) {
      const [event] = await store.read(`Account/x${i}`);
      expect(event?.metadata.traceId).toBe(traceId);
    }
    // Forwarded calls produce a gateway span and an owner span, both in the caller's trace.
    const calls = exporter.getFinishedSpans().filter((s) => s.name === "Account.deposit");
    expect(calls.length).toBeGreaterThan(CALLS);
    expect(calls.every((s) => s.spanContext().traceId === traceId)).toBe(true);
  });
});
