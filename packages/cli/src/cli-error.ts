/** A failure the CLI reports as one line and exit code 1; the message says what to change. */
export class CliError extends Error {
  override readonly name = "CliError";
}
