import type { ReminderRecord, ReminderTick } from "@granary/core";
import { type Histogram, metrics, ROOT_CONTEXT, type Span, SpanKind, type Tracer, trace } from "@opentelemetry/api";
import { parseTraceparent, traceparentOf } from "../telemetry/call-tracing.js";

/** Reminder instruments: lag of every tick, and a span per tick linked to the call that registered it. */
export class ReminderTelemetry {
  readonly #tracer: Tracer = trace.getTracer("@granary/runtime");
  readonly lag: Histogram = metrics.getMeter("@granary/runtime").createHistogram("granary.reminder.lag", {
    unit: "ms",
    description: "Reminder ticks: fire time minus due time",
  });

  /** The tick's span (a no-op without an SDK) and the traceparent its call carries. */
  startTick(reminder: ReminderRecord, tick: ReminderTick, siloId: string): { span: Span; traceparent?: string } {
    const registered = parseTraceparent(reminder.traceparent);
    const span = this.#tracer.startSpan(
      "granary.reminder",
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          "granary.actor": reminder.stream,
          "granary.reminder.name": reminder.name,
          "granary.reminder.tick": tick.id,
          "granary.reminder.scheduled_at": tick.scheduledAt,
          "granary.reminder.missed_ticks": tick.missedTicks,
          "granary.reminder.partition": reminder.partition,
          "granary.silo": siloId,
        },
        ...(registered ? { links: [{ context: registered, attributes: { "granary.link": "registration" } }] } : {}),
      },
      ROOT_CONTEXT,
    );
    const traceparent = traceparentOf(span.spanContext());
    return traceparent === undefined ? { span } : { span, traceparent };
  }
}
