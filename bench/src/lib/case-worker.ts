/** A worker thread that hosts one benchmark case (see runCases and case-worker-client.ts). */
import { parentPort, workerData } from "node:worker_threads";
import { SCENARIOS } from "../scenarios/index.js";
import type { CaseReply, CaseRequest, CaseWorkerData } from "./case-worker-client.js";
import { fullGc } from "./gc.js";
import { timeRun, type Workload } from "./harness.js";

const data = workerData as CaseWorkerData;
const port = parentPort;
if (!port) throw new Error("case-worker.js runs only as a worker thread");
const reply = (message: CaseReply) => port.postMessage(message);
const messageOf = (error: unknown) => (error instanceof Error ? (error.stack ?? error.message) : String(error));

let workload: Workload;
try {
  const scenario = SCENARIOS.find((s) => s.name === data.scenario);
  const spec = scenario?.cases?.(data.config, data.context as never)[data.caseIndex];
  if (!spec) throw new Error(`scenario ${data.scenario} has no case ${data.caseIndex}`);
  workload = await spec.setup();
  reply({ type: "ready" });
} catch (error) {
  reply({ type: "error", message: messageOf(error) });
  throw error;
}

port.on("message", async (request: CaseRequest) => {
  try {
    switch (request.type) {
      case "reset":
        await workload.reset?.();
        reply({ type: "done" });
        return;
      case "run":
        fullGc();
        reply({ type: "done", value: await timeRun(workload, request.durationMs, request.maxOps) });
        return;
      case "extra":
        reply({ type: "done", value: await workload.extra?.() });
        return;
      case "teardown":
        await workload.teardown?.();
        reply({ type: "done" });
        return;
    }
  } catch (error) {
    reply({ type: "error", message: messageOf(error) });
  }
});
