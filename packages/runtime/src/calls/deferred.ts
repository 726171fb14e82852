/**
 * `new Promise(capture)` builds a promise without an executor closure (nor a context for one) per
 * call: read its resolving functions from {@link captured} right after, before anything else runs.
 * Used where a promise is made per call (a local call's reply, an event-sourced turn's outcome).
 */
export const captured: { resolve: (value: unknown) => void; reject: (error: unknown) => void } = {
  resolve: noop,
  reject: noop,
};

export function capture(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

function noop(): void {}
