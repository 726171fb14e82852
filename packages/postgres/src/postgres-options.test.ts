import { ErrorCode, Upcasters } from "@granary/core";
import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_BATCH,
  DEFAULT_NAMESPACE,
  DEFAULT_POOL_SIZE,
  DEFAULT_SCHEMA,
  emitWarningLogger,
  resolvePostgresOptions,
} from "./postgres-options.js";

const url = "postgres://app:secret@localhost:5432/app";

function rejected(
  options: unknown,
  env: Record<string, string> = {},
): { code: string; option: string; message: string } {
  try {
    resolvePostgresOptions(options as never, env);
  } catch (error) {
    return error as { code: string; option: string; message: string };
  }
  throw new Error("expected the options to be rejected");
}

describe("resolvePostgresOptions", () => {
  it("options - fills in the documented defaults", () => {
    expect(resolvePostgresOptions({ connectionString: url }, {})).toEqual({
      connectionString: url,
      pool: undefined,
      poolSize: DEFAULT_POOL_SIZE,
      schema: DEFAULT_SCHEMA,
      namespace: DEFAULT_NAMESPACE,
      upcasters: undefined,
      logger: emitWarningLogger,
      groupCommit: true,
      maxBatch: DEFAULT_MAX_BATCH,
    });
    expect([DEFAULT_SCHEMA, DEFAULT_NAMESPACE, DEFAULT_POOL_SIZE, DEFAULT_MAX_BATCH]).toEqual([
      "granary",
      "default",
      10,
      500,
    ]);
  });

  it("options - the connection string falls back to GRANARY_POSTGRES_URL", () => {
    expect(resolvePostgresOptions({}, { GRANARY_POSTGRES_URL: url }).connectionString).toBe(url);
    expect(
      resolvePostgresOptions({ connectionString: url }, { GRANARY_POSTGRES_URL: "postgres://x/y" }).connectionString,
    ).toBe(url);
  });

  it("options - a pool is used as given and excludes connectionString and poolSize", async () => {
    const pool = new pg.Pool({ connectionString: url });
    expect(resolvePostgresOptions({ pool }, {}).pool).toBe(pool);
    expect(rejected({ pool, connectionString: url })).toMatchObject({
      code: ErrorCode.InvalidConfiguration,
      option: "pool",
    });
    expect(rejected({ pool, poolSize: 5 })).toMatchObject({ option: "poolSize" });
    await pool.end();
  });

  it("options - no database at all names connectionString and the environment variable", () => {
    const error = rejected({});
    expect(error).toMatchObject({ code: ErrorCode.InvalidConfiguration, option: "connectionString" });
    expect(error.message).toContain("GRANARY_POSTGRES_URL");
  });

  it.each([
    [{ connectionString: "mysql://localhost/db" }, "connectionString"],
    [{ connectionString: 42 }, "connectionString"],
    [{ connectionString: "postgres://%zz@host/db" }, "connectionString"],
    [{ pool: { query: 1 } }, "pool"],
    [{ connectionString: url, poolSize: 1 }, "poolSize"],
    [{ connectionString: url, poolSize: 2.5 }, "poolSize"],
    [{ connectionString: url, schema: "Granary" }, "schema"],
    [{ connectionString: url, schema: "a; DROP TABLE x" }, "schema"],
    [{ connectionString: url, schema: "x".repeat(49) }, "schema"],
    [{ connectionString: url, namespace: "" }, "namespace"],
    [{ connectionString: url, upcasters: {} }, "upcasters"],
    [{ connectionString: url, logger: console.log }, "logger"],
    [{ connectionString: url, groupCommit: "yes" }, "groupCommit"],
    [{ connectionString: url, maxBatch: 0 }, "maxBatch"],
    [{ connectionString: url, maxBatch: 1.5 }, "maxBatch"],
    [{ connectionString: url, maxBatch: 10_001 }, "maxBatch"],
  ])("options - %j is rejected naming %s", (options, option) => {
    expect(rejected(options)).toMatchObject({ code: ErrorCode.InvalidConfiguration, option });
  });

  it("options - the message shows the bad value itself, not only its type", () => {
    expect(rejected({ connectionString: url, poolSize: 1 })).toMatchObject({
      message: expect.stringContaining("got 1"),
    });
    expect(rejected({ connectionString: url, groupCommit: "yes" })).toMatchObject({
      message: expect.stringContaining('got "yes"'),
    });
  });

  it("options - a bad GRANARY_POSTGRES_URL names the environment variable", () => {
    expect(rejected({}, { GRANARY_POSTGRES_URL: "localhost:5432" })).toMatchObject({ option: "GRANARY_POSTGRES_URL" });
  });

  it("options - upcasters, logger, schema and namespace are kept", () => {
    const upcasters = new Upcasters();
    const logger = { warn: () => {} };
    expect(
      resolvePostgresOptions(
        { connectionString: url, upcasters, logger, schema: "events_v2", namespace: "tenant-a" },
        {},
      ),
    ).toMatchObject({ upcasters, logger, schema: "events_v2", namespace: "tenant-a" });
  });

  it("options - group commit can be turned off and its batch bounded", () => {
    expect(resolvePostgresOptions({ connectionString: url, groupCommit: false, maxBatch: 1 }, {})).toMatchObject({
      groupCommit: false,
      maxBatch: 1,
    });
    expect(resolvePostgresOptions({ connectionString: url, maxBatch: 10_000 }, {})).toMatchObject({
      groupCommit: true,
      maxBatch: 10_000,
    });
  });
});
