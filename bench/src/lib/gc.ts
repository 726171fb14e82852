import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let collect: (() => void) | undefined;

/**
 * A full garbage collection. Uses `global.gc` when node runs with --expose-gc (as `pnpm bench`
 * does); otherwise exposes it at run time, which works but is meant only for the smoke test.
 */
export function fullGc(): void {
  if (!collect) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) collect = exposed;
    else {
      setFlagsFromString("--expose-gc");
      collect = runInNewContext("gc") as () => void;
    }
  }
  collect();
}

/** Several collections with a pause between them, so weak references and finalizers settle too. */
export async function settleHeap(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    fullGc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
