import { context, metrics, ProxyTracerProvider, ROOT_CONTEXT, SpanKind, type Tracer, trace } from "@opentelemetry/api";
import { type CallRequest, callRequest, callContext as contextOf, withMetadata } from "../calls/call-context.js";
import { parseTraceparent, traceparentOfStarted } from "./traceparent.js";

export { activeTraceparent, parseTraceparent, traceparentOf } from "./traceparent.js";

/**
 * Starts the span of a call on the silo that runs it, as a child of the caller's span, and returns
 * the request with its traceparent pointing at the new span (so events and onward calls of the
 * turn hang below it) and the span itself as `span` (local to this silo, ended when the call
 * settles). Without a tracer SDK the span is a no-op and the request comes back unchanged.
 */
export function startCallSpan(tracer: Tracer, request: CallRequest): CallRequest {
  const callContext = request.context;
  const remoteParent = parseTraceparent(callContext.traceparent);
  const parent = remoteParent ? trace.setSpanContext(ROOT_CONTEXT, remoteParent) : context.active();
  const span = tracer.startSpan(
    `${request.actorType}.${request.method}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        "granary.actor.type": request.actorType,
        "granary.actor.id": request.actorId,
        "granary.method": request.method,
        "granary.call.id": callContext.callId,
      },
    },
    parent,
  );
  const traceparent = traceparentOfStarted(span.spanContext());
  // No valid span context: a no-op tracer's span, with nothing to record or end.
  if (traceparent === undefined) return request;
  // Built field by field: spreading a request and its context costs more than the span itself.
  const { callId, chain, correlationId, userId, metadata } = callContext;
  return callRequest(
    request.actorType,
    request.actorId,
    request.method,
    request.args,
    withMetadata(contextOf(callId, chain, correlationId, userId, traceparent), metadata),
    request.timeoutMs,
    request.idempotencyKey,
    request.route,
    span,
  );
}

/** The context in which a turn's code runs: the call's span is active there. */
export function turnContext(request: CallRequest) {
  // The span this silo started for the call is at hand: it becomes the active span itself (so user
  // code can also add to it), and its traceparent need not be parsed again nor wrapped.
  if (request.span) return trace.setSpan(context.active(), request.span);
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

/** Looks the SDK up again at the next call: a silo that starts after one was registered traces at once. */
export function recheckTracing(): void {
  tracingChecks = 0;
}

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
