import { context, trace, ROOT_CONTEXT, SpanKind } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
let n = 0;
const exporter = {
  export(spans, cb) {
    n += spans.length;
    cb({ code: 0 });
  },
  async shutdown() {},
  async forceFlush() {},
};
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
const tracer = provider.getTracer("x");
function one(i) {
  const span = tracer.startSpan(
    "BenchCounter.increment",
    {
      kind: SpanKind.SERVER,
      attributes: {
        "granary.actor.type": "BenchCounter",
        "granary.actor.id": "c-1",
        "granary.method": "increment",
        "granary.call.id": "abc" + i,
      },
    },
    ROOT_CONTEXT,
  );
  span.end();
}
for (let k = 0; k < 3; k++) {
  const c0 = process.cpuUsage();
  for (let i = 0; i < 300000; i++) {
    one(i);
    if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
  }
  const c = process.cpuUsage(c0);
  console.log("span", Math.round(((c.user + c.system) * 1000) / 300000), "ns CPU", n);
}
