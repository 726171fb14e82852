import { type Counter, type Histogram, metrics, type Tracer, trace, type UpDownCounter } from "@opentelemetry/api";

/** OpenTelemetry instruments of a silo; no-ops until the application registers an SDK. */
export interface SiloTelemetry {
  readonly tracer: Tracer;
  readonly activations: UpDownCounter;
  readonly mailboxDepth: Histogram;
  readonly callLatency: Histogram;
  readonly appendLatency: Histogram;
  readonly versionConflicts: Counter;
}

export function createSiloTelemetry(): SiloTelemetry {
  const meter = metrics.getMeter("@granary/runtime");
  return {
    tracer: trace.getTracer("@granary/runtime"),
    activations: meter.createUpDownCounter("granary.activations", { description: "Live activations on this silo" }),
    mailboxDepth: meter.createHistogram("granary.mailbox.depth", {
      description: "Calls waiting when a call is queued",
    }),
    callLatency: meter.createHistogram("granary.call.duration", { unit: "ms", description: "Actor call latency" }),
    appendLatency: meter.createHistogram("granary.append.duration", {
      unit: "ms",
      description: "Event append latency",
    }),
    versionConflicts: meter.createCounter("granary.version_conflicts", {
      description: "Commits rejected because another activation wrote first",
    }),
  };
}
