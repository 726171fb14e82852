import { resolve } from "node:path";
import { ChangeSignal } from "@granary/core";

interface Shared {
  readonly signal: ChangeSignal;
  users: number;
}

const byFile = new Map<string, Shared>();

/**
 * One ChangeSignal per database file in this process, so a subscriber wakes when any store on the
 * same file commits, not only its own. (Other processes are noticed by polling `data_version`.)
 * Release it on close.
 */
export function acquireChangeSignal(path: string): { readonly signal: ChangeSignal; release(): void } {
  if (path === ":memory:") return { signal: new ChangeSignal(), release: () => {} };
  const key = resolve(path);
  let shared = byFile.get(key);
  if (!shared) {
    shared = { signal: new ChangeSignal(), users: 0 };
    byFile.set(key, shared);
  }
  shared.users++;
  const entry = shared;
  let released = false;
  return {
    signal: entry.signal,
    release() {
      if (released) return;
      released = true;
      if (--entry.users === 0) byFile.delete(key);
    },
  };
}
