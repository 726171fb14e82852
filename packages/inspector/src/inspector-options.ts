/** Options of {@link startInspector}. */
export interface InspectorOptions {
  /** Interface to listen on. @default "127.0.0.1" (loopback only: the inspector shows actor state) */
  readonly host?: string;
  /** Port; 0 picks a free one. @default 0 (env GRANARY_INSPECTOR_PORT, read by the silo) */
  readonly port?: number;
  /**
   * The cluster key that unlocks purge from the page. Without it the inspector is read-only
   * (purge is refused with 403) — the default.
   */
  readonly purgeKey?: string;
}

export interface ResolvedInspectorOptions {
  readonly host: string;
  readonly port: number;
  readonly purgeKey: string | undefined;
}

/** Thrown for an invalid inspector option; names the option and the fix. */
export class InspectorOptionError extends Error {
  override readonly name = "InspectorOptionError";
}

export function resolveInspectorOptions(options: InspectorOptions = {}): ResolvedInspectorOptions {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InspectorOptionError(`inspector.port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  const host = options.host ?? "127.0.0.1";
  if (host.trim() === "") throw new InspectorOptionError('inspector.host must be an interface such as "127.0.0.1"');
  if (options.purgeKey !== undefined && options.purgeKey.length < 16) {
    throw new InspectorOptionError("inspector.purgeKey must be the cluster key (at least 16 characters)");
  }
  return { host, port, purgeKey: options.purgeKey };
}
