/**
 * @granary/cli — the `granary` command: silos, actors, history, state at any point, purge, the
 * inspector. Connects like the client (`GRANARY_REDIS_URL`, `--gateway`) or opens a data dir.
 *
 * @example
 * // pnpm granary history Account acc-1 --data-dir ./.granary --json
 * import { runCli } from "@granary/cli";
 * const code = await runCli(["silos"], { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
 */
export { CliError } from "./cli-error.js";
export type { CliIo } from "./command-context.js";
export { type ConnectionOptions, openConnection } from "./connection.js";
export { buildProgram, runCli } from "./program.js";
