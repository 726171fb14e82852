import type { Readable, Writable } from "node:stream";
import type { Connection } from "./connection.js";
import type { Output } from "./output.js";

/** Where the CLI reads and writes: the process's streams, or a test's. */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * What every command gets: its output and the connection named by the global options. Built by
 * `buildProgram`; declared apart from it so that the commands need not import the program that
 * registers them.
 */
export interface CommandContext {
  readonly io: CliIo;
  output(): Output;
  /** Opens the connection, runs `work`, and always closes it. */
  withConnection<T>(work: (connection: Connection) => Promise<T>): Promise<T>;
}
