import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidConfigurationError } from "@granary/core";
import pg from "pg";
import { freePort } from "./free-port.js";

export interface PostgresServerOptions {
  /**
   * Directory holding `initdb` and `postgres`.
   * @default `GRANARY_PG_BIN`, else `pg_config --bindir`, else the newest `/usr/lib/postgresql/<v>/bin`
   */
  readonly binDir?: string;
  /** Database created for the caller; `url` points at it. @default "granary" */
  readonly database?: string;
  /**
   * Whether initdb and the server fsync. Off makes tests fast and keeps a PostgreSQL crash
   * (`kill()`) honest: commits still write their WAL to the OS before they are acknowledged
   * (synchronous_commit stays on), so only an OS crash or power loss could lose them.
   * @default false
   */
  readonly fsync?: boolean;
  /** TCP port on 127.0.0.1. @default a free port */
  readonly port?: number;
  /** How long to wait for the server to accept connections. @default 30_000 */
  readonly startTimeoutMs?: number;
  /** Extra `-c name=value` server settings. @default { max_connections: "200" } */
  readonly settings?: Readonly<Record<string, string>>;
}

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/<database>` (trust authentication). */
  readonly url: string;
  readonly port: number;
  /** Creates another database on this server and returns its URL (e.g. one per test). */
  createDatabase(name: string): Promise<string>;
  /** Starts the server again on the same data directory after `kill()` (crash recovery tests). */
  restart(): Promise<void>;
  /** Fast shutdown (SIGINT), then removes the data directory. Safe to call twice or after kill(). */
  stop(): Promise<void>;
  /** SIGKILLs the server and its backends (a PostgreSQL crash, not an OS crash); keeps the data directory. */
  kill(): Promise<void>;
}

const INSTALL_HINT =
  "Install PostgreSQL's server binaries with `apt-get install -y postgresql-15` (or `apt-get install -y postgresql`, " +
  "or `brew install postgresql@15`), or set GRANARY_PG_BIN to the directory that holds `initdb` and `postgres`";

/** Servers still running, stopped with SIGQUIT (immediate shutdown) if the test process exits first. */
const running = new Map<ChildProcess, string>();
let exitHookInstalled = false;

/**
 * Starts a throwaway PostgreSQL server from the installed binaries: a temporary data directory,
 * trust authentication on 127.0.0.1, a free port and a unix socket inside the directory. When the
 * tests run as root (CI containers), initdb and postgres run as the `postgres` system user, since
 * PostgreSQL refuses to run as root. Missing binaries are an error that says how to install them.
 *
 * @example
 * const server = await startPostgresServer();
 * const store = new PostgresEventStore({ connectionString: server.url });
 * // ...
 * await store.close();
 * await server.stop();
 */
export async function startPostgresServer(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const binDir = options.binDir ?? findPostgresBinDir();
  const database = options.database ?? "granary";
  const fsync = options.fsync ?? false;
  const owner = process.getuid?.() === 0 ? postgresUser() : undefined;

  const root = mkdtempSync(join(tmpdir(), "granary-pg-"));
  const dataDir = join(root, "data");
  const socketDir = join(root, "sock");
  mkdirSync(socketDir);
  if (owner) {
    chownSync(root, owner.uid, owner.gid);
    chownSync(socketDir, owner.uid, owner.gid);
  }
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};

  try {
    execFileSync(
      join(binDir, "initdb"),
      [
        "-D",
        dataDir,
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        ...(fsync ? [] : ["--no-sync"]),
      ],
      { cwd: root, stdio: "pipe", env: { ...process.env, LC_ALL: "C" }, ...asOwner },
    );
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`initdb failed in ${binDir}: ${stderr || String(error)}`, { cause: error });
  }

  let port = options.port ?? (await freePort());
  const settings: Record<string, string> = {
    max_connections: "200",
    fsync: fsync ? "on" : "off",
    ...(fsync ? {} : { full_page_writes: "off" }),
    ...options.settings,
  };
  let child: ChildProcess | undefined;
  let log = "";

  const launch = async (): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      log = "";
      const args = ["-D", dataDir, "-p", String(port), "-h", "127.0.0.1", "-k", socketDir];
      for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
      // Own process group, so kill() can take the backends down together with the postmaster.
      const proc = spawn(join(binDir, "postgres"), args, { cwd: root, detached: true, stdio: "pipe", ...asOwner });
      proc.stdout?.on("data", (chunk: Buffer) => {
        log = (log + chunk.toString()).slice(-8_000);
      });
      proc.stderr?.on("data", (chunk: Buffer) => {
        log = (log + chunk.toString()).slice(-8_000);
      });
      child = proc;
      running.set(proc, root);
      installExitHook();
      try {
        await waitUntilReady(proc, port, options.startTimeoutMs ?? 30_000, () => log);
        return;
      } catch (error) {
        await signalAndWait(proc, "SIGKILL");
        // Another process may have taken the "free" port between our probe and the bind.
        if (options.port === undefined && attempt < 3 && /could not (bind|create listen)/i.test(log)) {
          port = await freePort();
          continue;
        }
        throw error;
      }
    }
  };

  try {
    await launch();
    await adminQuery(port, `CREATE DATABASE ${quoteIdent(database)}`);
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }

  const urlOf = (db: string): string => `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(db)}`;
  let removed = false;

  return {
    get url() {
      return urlOf(database);
    },
    get port() {
      return port;
    },
    async createDatabase(name) {
      await adminQuery(port, `CREATE DATABASE ${quoteIdent(name)}`);
      return urlOf(name);
    },
    async restart() {
      if (child && child.exitCode === null && child.signalCode === null) {
        throw new Error("the PostgreSQL server is still running; kill() or stop() it before restart()");
      }
      if (removed) throw new Error("the PostgreSQL server was stopped and its data directory removed");
      await launch();
    },
    async stop() {
      if (child) await signalAndWait(child, "SIGINT");
      if (!removed) rmSync(root, { recursive: true, force: true });
      removed = true;
    },
    async kill() {
      if (!child) return;
      // Backends call setsid(), so they are in no group of the postmaster's: kill them by parent pid
      // first, or a query already in a surviving backend's socket could still commit after the "crash".
      for (const pid of childPidsOf(child.pid)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await signalAndWait(child, "SIGKILL");
    },
  };
}

/** The directory holding `initdb` and `postgres`, or an error saying how to install them. */
export function findPostgresBinDir(): string {
  const fromEnv = process.env.GRANARY_PG_BIN;
  if (fromEnv) {
    if (hasServerBinaries(fromEnv)) return fromEnv;
    throw new InvalidConfigurationError(
      "GRANARY_PG_BIN",
      `"${fromEnv}" does not contain both \`initdb\` and \`postgres\`. Point it at PostgreSQL's bin directory (e.g. /usr/lib/postgresql/15/bin). ${INSTALL_HINT}`,
    );
  }
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync("pg_config", ["--bindir"], { stdio: "pipe" }).toString().trim());
  } catch {
    // pg_config is not installed or not on PATH: fall through to the usual locations.
  }
  candidates.push(...versionedDirs("/usr/lib/postgresql", "", (v) => `/usr/lib/postgresql/${v}/bin`));
  candidates.push(...versionedDirs("/usr", "pgsql-", (v) => `/usr/pgsql-${v}/bin`));
  candidates.push("/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin", "/usr/bin");
  const found = candidates.find(hasServerBinaries);
  if (found) return found;
  throw new Error(
    `PostgreSQL server binaries (initdb, postgres) were not found (looked in: ${candidates.join(", ")}). ${INSTALL_HINT}.`,
  );
}

/** `<parent>/<prefix><version>` entries, newest version first. */
function versionedDirs(parent: string, prefix: string, dirOf: (version: string) => string): string[] {
  if (!existsSync(parent)) return [];
  return readdirSync(parent)
    .filter((name) => name.startsWith(prefix))
    .map((name) => name.slice(prefix.length))
    .sort(byVersionDesc)
    .map(dirOf);
}

function byVersionDesc(a: string, b: string): number {
  return Number.parseFloat(b) - Number.parseFloat(a);
}

function hasServerBinaries(dir: string): boolean {
  return existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres"));
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("postgres:"));
  const fields = line?.split(":");
  const uid = Number(fields?.[2]);
  const gid = Number(fields?.[3]);
  if (!fields || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error(
      "tests run as root, and PostgreSQL refuses to run as root, but there is no `postgres` system user to run it as. " +
        "Create one (`useradd --system postgres`; installing the postgresql package does this) or run the tests as another user.",
    );
  }
  return { uid, gid };
}

async function waitUntilReady(proc: ChildProcess, port: number, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`PostgreSQL exited during startup (${proc.exitCode ?? proc.signalCode}):\n${log()}`);
    }
    try {
      await adminQuery(port, "SELECT 1");
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(
    `PostgreSQL did not accept connections on port ${port} within ${timeoutMs} ms (${String(lastError)}):\n${log()}`,
  );
}

async function adminQuery(port: number, sql: string): Promise<void> {
  const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" });
  // A connection refused while starting surfaces as a rejected connect(); swallow the duplicate event.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

async function signalAndWait(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  running.delete(proc);
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  sendToGroup(proc, signal);
  const timer = setTimeout(() => sendToGroup(proc, "SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
  if (signal === "SIGKILL") {
    // The backends are in the postmaster's group too; make sure none outlives it.
    sendToGroup(proc, "SIGKILL");
  }
}

/** Direct children of `pid`, from /proc (Linux); none elsewhere. */
function childPidsOf(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  const children: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name (which may hold spaces) start after the last ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

function sendToGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    // Already gone.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const [proc, root] of running) {
      sendToGroup(proc, "SIGQUIT");
      // Only synchronous work is possible here: wait briefly for the server to let go of its files.
      const sleeper = new Int32Array(new SharedArrayBuffer(4));
      // (The postmaster removes postmaster.pid last; the exited process itself stays a zombie until we exit.)
      const pidFile = join(root, "data", "postmaster.pid");
      for (let i = 0; i < 100 && existsSync(pidFile); i++) Atomics.wait(sleeper, 0, 0, 50);
      try {
        rmSync(root, { recursive: true, force: true });
      } catch {
        // Best effort: the server may still hold files open.
      }
    }
  });
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
