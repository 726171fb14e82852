import { randomUUID } from "node:crypto";
import type { EventEnvelope, GranaryError, JsonObject } from "@granary/core";
import { vi } from "vitest";

/** An event of `stream` at `version` with unique id, plain data and full metadata. */
export function makeEvent(stream: string, version: number, overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    id: randomUUID(),
    type: "Tested",
    stream,
    version,
    schemaVersion: 1,
    data: { n: version, label: `event ${version} of ${stream}` } satisfies JsonObject,
    metadata: {
      correlationId: `corr-${stream}`,
      causationId: `cause-${version}`,
      commandId: `cmd-${version}`,
      userId: "user-1",
    },
    timestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, version)).toISOString(),
    ...overrides,
  };
}

/** `count` events of `stream` numbered after `expectedVersion`, ready for one append. */
export function makeEvents(
  stream: string,
  expectedVersion: number,
  count: number,
  overrides: (version: number) => Partial<EventEnvelope> = () => ({}),
): EventEnvelope[] {
  return Array.from({ length: count }, (_, i) =>
    makeEvent(stream, expectedVersion + i + 1, overrides(expectedVersion + i + 1)),
  );
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<GranaryError> {
  try {
    await promise;
  } catch (error) {
    return error as GranaryError;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/**
 * Waits until `condition` holds (`vi.waitFor` with a message saying what was awaited). The deadline
 * is only a guard against hanging: tests never assert how long something took.
 */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: string,
  deadlineMs = 20_000,
): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await condition())) throw new Error(`gave up waiting until ${what}`);
    },
    { timeout: deadlineMs, interval: 10 },
  );
}

/** A namespace no other test (or earlier run on a shared database) uses. */
export function uniqueNamespace(): string {
  return `t-${randomUUID().slice(0, 13)}`;
}
