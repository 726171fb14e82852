import { InvalidArgumentError } from "@granary/core";

/** An operator request handler: validated args in, plain data out. */
export type AdminOperation = (args: Record<string, unknown>) => Promise<unknown> | unknown;

/** A table of operator requests by name; subsystems register theirs, the transport dispatches. */
export class OperatorRequests {
  readonly #operations = new Map<string, AdminOperation>();

  register(op: string, operation: AdminOperation): void {
    if (this.#operations.has(op)) throw new Error(`operator request "${op}" is registered twice`);
    this.#operations.set(op, operation);
  }

  get names(): string[] {
    return [...this.#operations.keys()].sort();
  }

  /** Runs an operator request; an unknown op is an INVALID_ARGUMENT that lists the known ones. */
  async handle(op: string, args: Record<string, unknown>): Promise<unknown> {
    const operation = this.#operations.get(op);
    if (!operation) {
      throw new InvalidArgumentError(`unknown operator request "${op}"; this process answers ${this.names.join(", ")}`);
    }
    return operation(args);
  }
}

/** A required string argument of an operator request. */
export function stringArg(args: Record<string, unknown>, name: string): string {
  const value = args[name];
  if (typeof value !== "string" || value.length === 0) {
    throw new InvalidArgumentError(
      `operator request needs "${name}" as a non-empty string, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** An optional integer argument within [min, max]. */
export function intArg(args: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const value = args[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`"${name}" must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}
