import { type PostgresServer, startPostgresServer } from "@granary/testing";
import pg from "pg";
import { grantApplicationRole } from "../grant-application-role.js";

/** A throwaway server set up as the README's two-role deployment describes. */
export interface TwoRoleServer {
  readonly server: PostgresServer;
  /** A superuser pool, for what neither role may do (writing around the store, inspecting catalogs). */
  readonly admin: pg.Pool;
  /** Owns Granary's schema and runs its migrations: an ordinary role with CREATE on the database. */
  readonly ownerUrl: string;
  /** The silos' role, set up by grantApplicationRole. */
  readonly appUrl: string;
  /** The URL of the same database as another role. */
  urlAs(role: string): string;
  stop(): Promise<void>;
}

export const OWNER_ROLE = "granary_owner";
export const APP_ROLE = "granary_app";
export const quietLogger = { warn: () => {} };

/** Starts a server, creates the owner and application roles, and runs grantApplicationRole as the owner. */
export async function startTwoRoleServer(): Promise<TwoRoleServer> {
  const server = await startPostgresServer();
  const admin = new pg.Pool({ connectionString: server.url, max: 3 });
  // Connections still closing when the server stops report an error; nothing to do about it.
  admin.on("error", () => {});
  await admin.query(`CREATE ROLE ${OWNER_ROLE} LOGIN; GRANT CREATE ON DATABASE granary TO ${OWNER_ROLE};
    CREATE ROLE ${APP_ROLE} LOGIN;`);
  const urlAs = (role: string): string => {
    const url = new URL(server.url);
    url.username = role;
    return url.toString();
  };
  await grantApplicationRole(urlAs(OWNER_ROLE), { role: APP_ROLE, logger: quietLogger });
  return {
    server,
    admin,
    ownerUrl: urlAs(OWNER_ROLE),
    appUrl: urlAs(APP_ROLE),
    urlAs,
    async stop() {
      await admin.end();
      await server.stop();
    },
  };
}
