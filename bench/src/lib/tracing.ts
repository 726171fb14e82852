import {
  type Context,
  context,
  ProxyTracerProvider,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";

/**
 * How spans are recorded: `off` (the API's no-op tracer, as with no SDK), `simple` (the SDK with a
 * SimpleSpanProcessor: one export call per span, synchronously as it ends) or `batch` (the SDK with
 * a BatchSpanProcessor at its defaults: queued, exported 512 at a time, as deployments run it).
 * Either way the exporter does no I/O: it counts the spans and drops them.
 */
export type TracingMode = "off" | "simple" | "batch";

/** The end of the pipeline: counts what it is handed, keeps nothing, writes nothing. */
class CountingExporter implements SpanExporter {
  exported = 0;

  export(spans: ReadableSpan[], resultCallback: (result: { code: number }) => void): void {
    this.exported += spans.length;
    resultCallback({ code: 0 });
  }

  async shutdown(): Promise<void> {}

  async forceFlush(): Promise<void> {}
}

/**
 * Tracing that can be switched between modes between runs in one process, so rows with and without
 * it run back to back under the same machine load.
 */
export class SwitchableTracing {
  readonly #exporter = new CountingExporter();
  readonly #simple = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.#exporter)] });
  readonly #batch = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(this.#exporter)] });
  readonly #noop = new ProxyTracerProvider(); // no delegate: the API's no-op tracer
  readonly #contextManager = new AsyncLocalStorageContextManager();
  #mode: TracingMode = "off";

  /** Registers globally (once per process): the runtime's tracers delegate to this from now on. */
  install(): this {
    const self = this;
    const provider: TracerProvider = {
      getTracer(name, version, options): Tracer {
        const tracers: Record<TracingMode, Tracer> = {
          off: self.#noop.getTracer(name, version, options),
          simple: self.#simple.getTracer(name, version, options),
          batch: self.#batch.getTracer(name, version, options),
        };
        return {
          startSpan: (spanName: string, options?: SpanOptions, ctx?: Context): Span =>
            tracers[self.#mode].startSpan(spanName, options, ctx),
          startActiveSpan: ((...args: unknown[]) => {
            const tracer = tracers[self.#mode];
            // The overloads of startActiveSpan are forwarded as they came.
            return (tracer.startActiveSpan as (...a: unknown[]) => unknown).apply(tracer, args);
          }) as Tracer["startActiveSpan"],
        };
      },
    };
    context.setGlobalContextManager(this.#contextManager.enable());
    trace.setGlobalTracerProvider(provider);
    return this;
  }

  get mode(): TracingMode {
    return this.#mode;
  }

  set mode(mode: TracingMode) {
    this.#mode = mode;
  }

  /** Spans handed to the exporter since install (a batch hands them over 512 at a time, or on flush). */
  get spansExported(): number {
    return this.#exporter.exported;
  }

  /** Exports what the batch processor still holds. */
  async flush(): Promise<void> {
    await this.#batch.forceFlush();
  }

  async uninstall(): Promise<void> {
    trace.disable();
    context.disable();
    await this.#simple.shutdown();
    await this.#batch.shutdown();
  }
}

let shared: { tracing: SwitchableTracing; users: number } | undefined;

/** This thread's tracing switch, installed on first use and removed when its last user releases it. */
export function acquireTracing(): { readonly tracing: SwitchableTracing; release(): Promise<void> } {
  shared ??= { tracing: new SwitchableTracing().install(), users: 0 };
  shared.users++;
  const current = shared;
  return {
    tracing: current.tracing,
    release: async () => {
      if (--current.users === 0 && shared === current) {
        shared = undefined;
        await current.tracing.uninstall();
      }
    },
  };
}
