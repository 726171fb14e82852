/**
 * The optimistic-concurrency and fencing guard of an append, written once: the stream row `st` may
 * move from `expected` to `expected + count` only if it is at `expected`, has no tombstone, and its
 * epoch is not newer than the append's (a NULL epoch is not fenced); the epoch it keeps is the
 * highest accepted. `append` and both paths of `append_many` (set-based and one by one) use these
 * texts, so the rule cannot drift between them. Arguments are SQL expressions of the embedding
 * statement (parameters, variables or columns).
 */
export interface GuardTerms {
  readonly expected: string;
  readonly count: string;
  readonly epoch: string;
}

/** WHERE condition on stream row `st`: the append may advance it. */
export function streamAcceptsSql(v: Pick<GuardTerms, "expected" | "epoch">): string {
  return `st.version = ${v.expected} AND st.purged_at IS NULL AND (${v.epoch} IS NULL OR st.epoch <= ${v.epoch})`;
}

/** SET list that advances stream row `st` past an accepted append. */
export function advanceStreamSql(v: GuardTerms): string {
  return `version = ${v.expected} + ${v.count}, epoch = greatest(st.epoch, coalesce(${v.epoch}, 0))`;
}

/**
 * plpgsql for one append: advance the stream row if the guard holds, or create it for a first
 * append (`expected` 0) to a stream that has no row; afterwards `FOUND` says whether the append
 * was accepted. The row stays locked until commit. A first append that meets a row committed
 * meanwhile (a concurrent first append, a purge) inserts nothing and is refused like any other.
 */
export function streamGuardSql(s: string, v: GuardTerms & { namespace: string; stream: string }): string {
  return `UPDATE ${s}.streams st SET ${advanceStreamSql(v)}
  WHERE st.namespace = ${v.namespace} AND st.stream = ${v.stream} AND ${streamAcceptsSql(v)};
IF NOT FOUND AND ${v.expected} = 0 THEN
  INSERT INTO ${s}.streams (namespace, stream, version, epoch)
  VALUES (${v.namespace}, ${v.stream}, ${v.count}, coalesce(${v.epoch}, 0))
  ON CONFLICT (namespace, stream) DO NOTHING;
END IF;`;
}

/** `sql` with every line after the first indented by `spaces`, to embed a fragment in a function body. */
export function indent(sql: string, spaces: number): string {
  return sql.replaceAll("\n", `\n${" ".repeat(spaces)}`);
}
