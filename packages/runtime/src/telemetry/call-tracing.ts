import {
  context,
  isSpanContextValid,
  metrics,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { CallRequest } from "../calls/call-context.js";

/**
 * W3C trace context for calls, carried as a `traceparent` string inside the call itself, so it
 * crosses silos with the call and needs no globally registered propagator.
 */
export function traceparentOf(spanContext: SpanContext | undefined): string | undefined {
  if (!spanContext || !isSpanContextValid(spanContext)) return undefined;
  return `00-${spanContext.traceId}-${spanContext.spanId}-0${(spanContext.traceFlags & 0xff).toString(16)}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function parseTraceparent(traceparent: string | undefined): SpanContext | undefined {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  if (!match) return undefined;
  const spanContext = {
    traceId: match[1] as string,
    spanId: match[2] as string,
    traceFlags: Number.parseInt(match[3] as string, 16),
    isRemote: true,
  };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** The traceparent of the span active where a call is made from outside any actor. */
export function activeTraceparent(): string | undefined {
  return traceparentOf(trace.getActiveSpan()?.spanContext());
}

/**
 * Starts the span of a call on the silo that runs it, as a child of the caller's span, and returns
 * the request with its traceparent pointing at the new span (so events and onward calls of the
 * turn hang below it). Without a tracer SDK the span is a no-op and the request is unchanged.
 */
export function startCallSpan(tracer: Tracer, request: CallRequest): { span: Span; request: CallRequest } {
  const remoteParent = parseTraceparent(request.context.traceparent);
  const parent = remoteParent ? trace.setSpanContext(ROOT_CONTEXT, remoteParent) : context.active();
  const span = tracer.startSpan(
    `${request.actorType}.${request.method}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        "granary.actor.type": request.actorType,
        "granary.actor.id": request.actorId,
        "granary.method": request.method,
        "granary.call.id": request.context.callId,
      },
    },
    parent,
  );
  const traceparent = traceparentOf(span.spanContext());
  if (traceparent === undefined) return { span, request };
  return { span, request: { ...request, context: { ...request.context, traceparent } } };
}

/** The context in which a turn's code runs: the call's span is active there. */
export function turnContext(request: CallRequest) {
  const spanContext = parseTraceparent(request.context.traceparent);
  return spanContext ? trace.setSpanContext(context.active(), spanContext) : undefined;
}

/**
 * Whether a tracer SDK is registered. Without one, call spans would be no-ops that still cost an
 * allocation per call, so the hot path skips them (incoming trace context is still carried).
 */
export function tracingEnabled(): boolean {
  // Looked up once per 1,024 calls: registering an SDK takes effect within that many calls.
  if ((tracingChecks++ & 1023) === 0) tracingOn = lookUpTracing();
  return tracingOn;
}

let tracingChecks = 0;
let tracingOn = false;

function lookUpTracing(): boolean {
  const provider = trace.getTracerProvider();
  if (!(provider instanceof ProxyTracerProvider)) return true;
  return provider.getDelegate().constructor.name !== "NoopTracerProvider";
}

/** Whether a meter SDK is registered (checked at silo start: per-call metrics are skipped otherwise). */
export function metricsEnabled(): boolean {
  const provider = metrics.getMeterProvider();
  return provider.constructor.name !== "NoopMeterProvider";
}
