// scratch: cost of tracing pieces on local calls (not committed)
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { Silo } from "@granary/runtime";
import { BenchCounter } from "../dist/lib/actors.js";
const mode = process.argv[2];
process.env.GRANARY_LOG_LEVEL = "silent";
if (mode !== "none") context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
if (mode === "hooks")
  context.with(
    trace.setSpanContext(context.active(), {
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: 1,
    }),
    () => {},
  );
if (mode === "batch") {
  let n = 0;
  globalThis.__n = () => n;
  const exporter = {
    export(spans, cb) {
      n += spans.length;
      cb({ code: 0 });
    },
    async shutdown() {},
    async forceFlush() {},
  };
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] }));
}
const silo = await Silo.start({ actors: [BenchCounter], freezeState: false, idleTimeoutMs: 3_600_000 });
const refs = Array.from({ length: 1000 }, (_, i) => silo.get(BenchCounter, `c-${i}`));
await Promise.all(refs.map((r) => r.increment()));
let x = 7;
const rnd = () => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>> 0) % 1000;
};
async function run(total) {
  let left = total;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (left-- > 0) await refs[rnd()].increment();
    }),
  );
}
await run(200000);
const c0 = process.cpuUsage();
const t0 = performance.now();
await run(500000);
const c = process.cpuUsage(c0);
if (mode === "batch") console.log("spans exported", globalThis.__n?.());
console.log(
  mode,
  Math.round(((c.user + c.system) * 1000) / 500000),
  "ns CPU/call",
  Math.round(((performance.now() - t0) * 1e6) / 500000),
  "ns wall/call",
);
await silo.stop();
process.exit(0);
