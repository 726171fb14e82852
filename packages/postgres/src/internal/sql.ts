/** A double-quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Attributes of every Granary function that writes. It runs with its owner's privileges, so an
 * application role that may only execute it and read (see privileges.ts) writes through it and
 * nothing else; and under a search_path the caller cannot change, so no function or operator the
 * caller creates elsewhere can stand in for PostgreSQL's own inside it (every table and function
 * of Granary is named with its schema in the bodies).
 */
export const DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, pg_temp";
