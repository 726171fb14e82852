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
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";

/**
 * Tracing that can be switched on and off between runs in one process, so "on" and "off" rows
 * run back to back under the same machine load. On: the OpenTelemetry SDK (always-on sampler,
 * SimpleSpanProcessor, in-memory exporter). Off: the API's no-op tracer, as with no SDK.
 */
export class SwitchableTracing {
  readonly exporter = new InMemorySpanExporter();
  readonly #sdk = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.exporter)] });
  readonly #noop = new ProxyTracerProvider(); // no delegate: the API's no-op tracer
  readonly #contextManager = new AsyncLocalStorageContextManager();
  #enabled = false;
  #exported = 0;

  /** Registers globally (once per process): the runtime's tracers delegate to this from now on. */
  install(): this {
    const self = this;
    const provider: TracerProvider = {
      getTracer(name, version, options): Tracer {
        const on = self.#sdk.getTracer(name, version, options);
        const off = self.#noop.getTracer(name, version, options);
        return {
          startSpan: (spanName: string, options?: SpanOptions, ctx?: Context): Span =>
            (self.#enabled ? on : off).startSpan(spanName, options, ctx),
          startActiveSpan: ((...args: unknown[]) => {
            const tracer = self.#enabled ? on : off;
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

  set enabled(on: boolean) {
    this.#exported += this.exporter.getFinishedSpans().length;
    this.exporter.reset();
    this.#enabled = on;
  }

  /** Spans finished since install. */
  get spansExported(): number {
    return this.#exported + this.exporter.getFinishedSpans().length;
  }

  async uninstall(): Promise<void> {
    trace.disable();
    context.disable();
    await this.#sdk.shutdown();
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
