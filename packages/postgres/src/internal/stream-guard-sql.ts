/**
 * The optimistic-concurrency and fencing guard of an append, written once. A first append
 * (`expected` 0) creates the stream's row if there is none: a row that exists was written by an
 * append (version >= 1) or a purge (a tombstone), so it refuses the append either way. Any other
 * append may move stream row `st` from `expected` to `expected + count` only if it is at
 * `expected`, has no tombstone, and its epoch is not newer than the append's (a NULL epoch is not
 * fenced); the epoch it keeps is the highest accepted. `append` and both paths of `append_many`
 * (set-based and one by one) use these texts, so the rule cannot drift between them. Arguments are
 * SQL expressions of the embedding statement (parameters, variables or columns).
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
 * plpgsql for one append: create or advance the stream row as above; afterwards `FOUND` says
 * whether the append was accepted. The row stays locked until commit. A first append that meets a
 * row committed meanwhile (a concurrent first append, a purge) inserts nothing and is refused.
 */
export function streamGuardSql(s: string, v: GuardTerms & { namespace: string; stream: string }): string {
  return `IF ${v.expected} = 0 THEN
  INSERT INTO ${s}.streams (namespace, stream, version, epoch)
  VALUES (${v.namespace}, ${v.stream}, ${v.count}, coalesce(${v.epoch}, 0))
  ON CONFLICT (namespace, stream) DO NOTHING;
ELSE
  UPDATE ${s}.streams st SET ${advanceStreamSql(v)}
    WHERE st.namespace = ${v.namespace} AND st.stream = ${v.stream} AND ${streamAcceptsSql(v)};
END IF;`;
}

/** `sql` with every line after the first indented by `spaces`, to embed a fragment in a function body. */
export function indent(sql: string, spaces: number): string {
  return sql.replaceAll("\n", `\n${" ".repeat(spaces)}`);
}
