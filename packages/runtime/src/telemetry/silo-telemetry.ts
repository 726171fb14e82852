import { type Counter, type Histogram, metrics, type Tracer, trace, type UpDownCounter } from "@opentelemetry/api";
import { metricsEnabled, recheckTracing, tracingEnabled } from "./call-tracing.js";

/** OpenTelemetry instruments of a silo; no-ops until the application registers an SDK. */
export interface SiloTelemetry {
  readonly tracer: Tracer;
  /** Whether a tracer SDK is registered now (spans are skipped otherwise). */
  tracingOn(): boolean;
  /** Whether a meter SDK was registered when the silo started (per-call metrics are skipped otherwise). */
  readonly metricsOn: boolean;
  readonly activations: UpDownCounter;
  readonly mailboxDepth: Histogram;
  readonly callLatency: Histogram;
  readonly appendLatency: Histogram;
  readonly versionConflicts: Counter;
}

export function createSiloTelemetry(): SiloTelemetry {
  recheckTracing();
  const meter = metrics.getMeter("@granary/runtime");
  return {
    tracer: trace.getTracer("@granary/runtime"),
    tracingOn: tracingEnabled,
    metricsOn: metricsEnabled(),
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
