import { afterAll, beforeAll } from "vitest";
import { type PostgresServer, type PostgresServerOptions, startPostgresServer } from "./servers/postgres-server.js";
import { type RedisServer, type RedisServerOptions, startRedisServer } from "./servers/redis-server.js";

/** A throwaway server that one test file shares, reachable from its tests and hooks. */
export interface FileServer {
  /** Its connection URL; throws when read before the server started (outside a test or hook). */
  readonly url: string;
}

function useServer(what: string, start: () => Promise<{ readonly url: string; stop(): Promise<void> }>): FileServer {
  let server: { readonly url: string; stop(): Promise<void> } | undefined;
  beforeAll(async () => {
    server = await start();
  });
  // Hooks run as a stack: the file's own afterAll hooks (closing its clients) run before this one.
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get url() {
      if (!server) throw new Error(`the ${what} server is not started yet: read its url inside a test or hook`);
      return server.url;
    },
  };
}

/**
 * Starts a throwaway `redis-server` before the file's first test and stops it after the last.
 * Call it at the top of a test file, before hooks that use it.
 *
 * @example
 * const redis = useRedisServer();
 * snapshotStoreConformance("RedisSnapshotStore", {
 *   open: async ({ namespace }) => new RedisSnapshotStore({ redis: redis.url, namespace }),
 * });
 */
export function useRedisServer(options: RedisServerOptions = {}): FileServer {
  return useServer("Redis", (): Promise<RedisServer> => startRedisServer(options));
}

/** {@link useRedisServer} for a throwaway PostgreSQL server. */
export function usePostgresServer(options: PostgresServerOptions = {}): FileServer {
  return useServer("PostgreSQL", (): Promise<PostgresServer> => startPostgresServer(options));
}
