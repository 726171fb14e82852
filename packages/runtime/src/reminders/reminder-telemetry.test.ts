import { Actor, ManualClock, MemoryEventStore, MemorySnapshotStore, type ReminderTick } from "@granary/core";
import { context, type Histogram, type Meter, metrics, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Silo } from "../silo/silo.js";

const exporter = new InMemorySpanExporter();
const recorded: { name: string; value: number; attributes: unknown }[] = [];

class Alarm extends Actor {
  static readonly type = "Alarm";
  static ticks = 0;
  async arm(): Promise<void> {
    await this.remind("ring", { inMs: 2_000 });
  }
  override async onReminder(_name: string, _tick: ReminderTick): Promise<void> {
    Alarm.ticks++;
  }
}

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  // A meter that keeps what histograms record: enough to see the lag metric without an SDK.
  const histogram = (name: string): Histogram =>
    ({ record: (value: number, attributes?: unknown) => recorded.push({ name, value, attributes }) }) as Histogram;
  const meter = new Proxy({} as Meter, {
    get: (_target, property) =>
      property === "createHistogram"
        ? histogram
        : () => ({ add: () => {}, record: () => {}, addCallback: () => {}, removeCallback: () => {} }),
  });
  metrics.setGlobalMeterProvider({ getMeter: () => meter });
});
afterAll(() => {
  trace.disable();
  context.disable();
  metrics.disable();
});

describe("reminder telemetry", () => {
  it("a tick records its lag and has a span linked to the call that registered the reminder", async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const silo = await Silo.start({
      actors: [Alarm],
      store: new MemoryEventStore(),
      snapshots: new MemorySnapshotStore(),
      logger: pino({ level: "silent" }),
      clock,
    });
    try {
      const parent = trace.getTracer("test").startSpan("POST /alarm");
      await context.with(trace.setSpan(context.active(), parent), () => silo.get(Alarm, "a").arm());
      parent.end();
      const registeringCall = exporter.getFinishedSpans().find((s) => s.name === "Alarm.arm");
      expect(registeringCall).toBeDefined();

      for (let i = 0; i < 10; i++) {
        clock.advance(500);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await vi.waitFor(() => expect(Alarm.ticks).toBe(1));
      await vi.waitFor(() =>
        expect(exporter.getFinishedSpans().some((s) => s.name === "Alarm.granary:onReminder")).toBe(true),
      );

      const spans = exporter.getFinishedSpans();
      const tick = spans.find((s) => s.name === "granary.reminder");
      expect(tick?.attributes).toMatchObject({ "granary.actor": "Alarm/a", "granary.reminder.name": "ring" });
      expect(tick?.links.map((l) => l.context.spanId)).toEqual([registeringCall?.spanContext().spanId]);
      const handler = spans.find((s) => s.name === "Alarm.granary:onReminder");
      expect(handler?.spanContext().traceId).toBe(tick?.spanContext().traceId);
      expect(handler?.parentSpanContext?.spanId).toBe(tick?.spanContext().spanId);
      const lags = recorded.filter((r) => r.name === "granary.reminder.lag");
      expect(lags).toHaveLength(1);
      expect(lags[0]?.value).toBeGreaterThanOrEqual(0);
      expect(lags[0]?.value).toBeLessThanOrEqual(1_000);
    } finally {
      await silo.stop();
    }
  });
});
