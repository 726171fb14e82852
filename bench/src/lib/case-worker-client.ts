import { Worker } from "node:worker_threads";
import type { CaseHandle, RunSample } from "./case-handle.js";
import type { BenchConfig } from "./config.js";

/** What a case worker is started with: enough to build its case again from the scenario's module. */
export interface CaseWorkerData {
  readonly scenario: string;
  readonly caseIndex: number;
  readonly config: BenchConfig;
  readonly context: unknown;
}

export type CaseRequest =
  | { readonly type: "reset" }
  | { readonly type: "run"; readonly durationMs: number; readonly maxOps: number }
  | { readonly type: "extra" }
  | { readonly type: "teardown" };

export type CaseReply =
  | { readonly type: "ready" }
  | { readonly type: "done"; readonly value?: unknown }
  | { readonly type: "error"; readonly message: string };

/** Starts the case in a worker thread and drives it one request at a time. */
export async function inWorker(data: CaseWorkerData): Promise<CaseHandle> {
  const worker = new Worker(new URL("./case-worker.js", import.meta.url), { workerData: data });
  let failure: Error | undefined;
  let waiting: { resolve: (reply: CaseReply) => void; reject: (error: Error) => void } | undefined;
  worker.on("message", (reply: CaseReply) => {
    const w = waiting;
    waiting = undefined;
    w?.resolve(reply);
  });
  const fail = (error: Error) => {
    failure ??= error;
    waiting?.reject(error);
    waiting = undefined;
  };
  worker.on("error", fail);
  worker.on("exit", (code) => fail(new Error(`case worker exited with code ${code}`)));
  const next = (): Promise<CaseReply> =>
    failure
      ? Promise.reject(failure)
      : new Promise((resolve, reject) => {
          waiting = { resolve, reject };
        });
  const ask = async (request: CaseRequest): Promise<unknown> => {
    const reply = next();
    worker.postMessage(request);
    const answer = await reply;
    if (answer.type === "error") throw new Error(`${data.scenario} case ${data.caseIndex}: ${answer.message}`);
    return answer.type === "done" ? answer.value : undefined;
  };
  const ready = await next();
  if (ready.type === "error") {
    await worker.terminate();
    throw new Error(`${data.scenario} case ${data.caseIndex} setup: ${ready.message}`);
  }
  return {
    reset: async () => void (await ask({ type: "reset" })),
    run: async (durationMs, maxOps) => (await ask({ type: "run", durationMs, maxOps })) as RunSample,
    extra: async () => (await ask({ type: "extra" })) as Record<string, number | string | boolean> | undefined,
    teardown: async () => {
      try {
        if (!failure) await ask({ type: "teardown" });
      } finally {
        worker.removeAllListeners("exit");
        await worker.terminate();
      }
    },
  };
}
