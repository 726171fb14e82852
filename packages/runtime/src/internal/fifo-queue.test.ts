import { describe, expect, it } from "vitest";
import { FifoQueue } from "./fifo-queue.js";

describe("FifoQueue", () => {
  it("fifo - items come out in the order they went in, across compactions, and size counts what is left", () => {
    // Given a queue that is never fully drained while 5,000 items pass through it
    const queue = new FifoQueue<number>();
    const out: number[] = [];
    for (let i = 0; i < 5_000; i++) {
      queue.push(i);
      if (i % 3 !== 0) out.push(queue.shift() as number);
    }
    // Then what came out, and what is left, is in push order
    expect(queue.size).toBe(5_000 - out.length);
    const rest = queue.drain();
    expect([...out, ...rest].sort((a, b) => a - b)).toEqual([...out, ...rest]);
    expect(new Set([...out, ...rest]).size).toBe(5_000);
    expect(queue.size).toBe(0);
    expect(queue.shift()).toBeUndefined();
  });
});
