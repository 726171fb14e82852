import { ConnectionError } from "@granary/core";

/**
 * The bytes a server may hold for frames still arriving, across all its connections
 * (`maxBufferedFrameBytes`). A frame that does not arrive in one socket chunk needs a buffer of its
 * announced size until its last byte comes; without a shared bound, every connection could pin
 * `maxFrameBytes` with a frame it never finishes. Frames that arrive whole are read in place and
 * take nothing from it.
 */
export class FrameBudget {
  readonly maxBytes: number;
  #usedBytes = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Bytes held now for incomplete frames. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /**
   * Takes `bytes` for a frame that has started arriving.
   * @throws ConnectionError when that would exceed the bound: the asking connection is closed (its
   *   frame never completed, so nothing it sent was acted on), the others keep theirs
   */
  reserve(bytes: number): void {
    if (this.#usedBytes + bytes > this.maxBytes) {
      throw new ConnectionError(
        `peer started a ${bytes}-byte frame while incomplete frames already hold ${this.#usedBytes} bytes, and maxBufferedFrameBytes (${this.maxBytes}) bounds them all; disconnected`,
        { data: { frameBytes: bytes, bufferedFrameBytes: this.#usedBytes, maxBufferedFrameBytes: this.maxBytes } },
      );
    }
    this.#usedBytes += bytes;
  }

  /** Gives back what {@link reserve} took, once the frame completed or its connection closed. */
  release(bytes: number): void {
    this.#usedBytes -= bytes;
  }
}
