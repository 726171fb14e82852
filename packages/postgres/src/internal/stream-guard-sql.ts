/**
 * The optimistic-concurrency and fencing guard of an append, as plpgsql: advance the stream row
 * from `expected` to `expected + count` only if it is at `expected`, not purged, and its epoch is
 * not newer than the append's; afterwards `FOUND` says whether the guard passed. The row stays
 * locked until commit. `granary.append` and `granary.append_many` both embed this one text, so the
 * rule cannot drift between the single and the batched path. The arguments are plpgsql expressions
 * (parameter or variable names) of the embedding function.
 */
export function streamGuardSql(
  s: string,
  v: { namespace: string; stream: string; expected: string; count: string; epoch: string },
): string {
  return `IF ${v.expected} = 0 THEN
  INSERT INTO ${s}.streams AS st (namespace, stream, version, epoch)
  VALUES (${v.namespace}, ${v.stream}, ${v.count}, coalesce(${v.epoch}, 0))
  ON CONFLICT (namespace, stream) DO UPDATE
    SET version = EXCLUDED.version, epoch = greatest(st.epoch, EXCLUDED.epoch)
    WHERE st.version = 0 AND st.purged_at IS NULL AND (${v.epoch} IS NULL OR st.epoch <= ${v.epoch});
ELSE
  UPDATE ${s}.streams st
    SET version = ${v.expected} + ${v.count}, epoch = greatest(st.epoch, coalesce(${v.epoch}, 0))
    WHERE st.namespace = ${v.namespace} AND st.stream = ${v.stream} AND st.version = ${v.expected}
      AND st.purged_at IS NULL AND (${v.epoch} IS NULL OR st.epoch <= ${v.epoch});
END IF;`;
}

/** `sql` with every line after the first indented by `spaces`, to embed a fragment in a function body. */
export function indent(sql: string, spaces: number): string {
  return sql.replaceAll("\n", `\n${" ".repeat(spaces)}`);
}
