import { ErrorCode, GranaryError } from "@granary/core";

/**
 * The schema lacks migrations this Granary needs (or the role cannot even read which it has), and
 * the role the store connects as may not run them: the least-privilege application role of a
 * two-role setup. The schema owner must migrate (and grant) first; nothing was written.
 */
export class SchemaNotMigratedError extends GranaryError {
  override name = "SchemaNotMigratedError";
  constructor(
    readonly schema: string,
    readonly role: string,
    /** The newest migration applied, or undefined when the role may not read `<schema>.migrations`. */
    readonly applied: number | undefined,
    readonly required: number,
    options: { readonly cause?: unknown } = {},
  ) {
    const state =
      applied === undefined
        ? `cannot read which migrations Granary's schema "${schema}" has`
        : `may not migrate Granary's schema "${schema}" (it has migration ${applied}, this Granary needs ${required})`;
    super(
      ErrorCode.SchemaNotMigrated,
      `PostgreSQL role "${role}" ${state}. Connect as the schema owner and run grantApplicationRole(ownerConnection, { role: "${role}", schema: "${schema}" }) from @granary/postgres before starting the silos (on every deploy): it migrates the schema and grants this role what the stores need`,
      { data: { schema, role, applied, required }, cause: options.cause },
    );
  }
}
