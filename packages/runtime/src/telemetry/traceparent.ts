import { isSpanContextValid, type SpanContext, trace } from "@opentelemetry/api";

/**
 * W3C trace context for calls, carried as a `traceparent` string inside the call itself, so it
 * crosses silos with the call and needs no globally registered propagator.
 */
export function traceparentOf(spanContext: SpanContext | undefined): string | undefined {
  if (!spanContext || !isSpanContextValid(spanContext)) return undefined;
  return format(spanContext);
}

/**
 * {@link traceparentOf} for the span a tracer just started for a call: a no-op or unsampled
 * tracer's span has the all-zero ids, an SDK's has ids it generated as hex, so only the all-zero
 * ids are checked (the two pattern tests of `isSpanContextValid` were 2% of a traced call's CPU). A
 * tracer that made malformed ids would only start a new trace on the receiving side, whose
 * {@link parseTraceparent} checks the whole format.
 */
export function traceparentOfStarted(spanContext: SpanContext): string | undefined {
  const { traceId, spanId } = spanContext;
  if (traceId.length !== 32 || spanId.length !== 16 || traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID)
    return undefined;
  return format(spanContext);
}

function format(spanContext: SpanContext): string {
  const flags = spanContext.traceFlags & 0xff;
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags === 1 ? "01" : flags < 16 ? `0${flags.toString(16)}` : flags.toString(16)}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const INVALID_TRACE_ID = "00000000000000000000000000000000";
const INVALID_SPAN_ID = "0000000000000000";

// A call's traceparent is read several times on its way (its span, the turn's context, its events'
// metadata, the append's span): the last one read is kept. Span contexts are never mutated.
let lastText: string | undefined;
let lastParsed: SpanContext | undefined;

export function parseTraceparent(traceparent: string | undefined): SpanContext | undefined {
  if (traceparent === undefined) return undefined;
  if (traceparent === lastText) return lastParsed;
  const match = TRACEPARENT.exec(traceparent);
  let parsed: SpanContext | undefined;
  // The pattern already checked the hex digits: only the all-zero ids remain invalid.
  if (match && match[1] !== INVALID_TRACE_ID && match[2] !== INVALID_SPAN_ID) {
    parsed = {
      traceId: match[1] as string,
      spanId: match[2] as string,
      traceFlags: Number.parseInt(match[3] as string, 16),
      isRemote: true,
    };
  }
  lastText = traceparent;
  lastParsed = parsed;
  return parsed;
}

/** The traceparent of the span active where a call is made from outside any actor. */
export function activeTraceparent(): string | undefined {
  return traceparentOf(trace.getActiveSpan()?.spanContext());
}
