import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./free-port.js";

export interface RedisServerOptions {
  /**
   * Turns on the append-only file, so a stopped or killed server comes back with its data on
   * `restart()`. @default true (what a production event store needs)
   */
  readonly appendonly?: boolean;
  /** Port to listen on. @default a free port chosen by the OS */
  readonly port?: number;
  /** The redis-server binary. @default `GRANARY_REDIS_SERVER` or "redis-server" from PATH */
  readonly binary?: string;
  /** How long to wait for the server to answer PING. @default 15_000 (two busy cores) */
  readonly startTimeoutMs?: number;
  /** Extra command-line arguments, e.g. `["--maxmemory", "10mb"]`. */
  readonly args?: readonly string[];
}

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The server's data directory (AOF files), removed by `stop()`. */
  readonly dir: string;
  /** Whether the process is running (paused counts as running). */
  readonly running: boolean;
  /**
   * Shuts the server down (SIGTERM: it flushes its AOF) and waits until it exited. Without
   * `keepData` the data directory is removed too: that is the final cleanup. With `keepData`,
   * `restart()` brings the same data back on the same port.
   */
  stop(options?: { readonly keepData?: boolean }): Promise<void>;
  /** SIGKILL, as in a crash: the data directory stays, so `restart()` recovers from the AOF. */
  kill(): Promise<void>;
  /** Starts the server again on the same port (after `stop({ keepData })`, `stop()` or `kill()`). */
  restart(): Promise<void>;
  /** SIGSTOP: the port stays open but nothing answers (a hung server, not a refused connection). */
  pause(): void;
  resume(): void;
}

const DEFAULT_START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 4_000;

/** Servers still running, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Starts a throwaway `redis-server` on 127.0.0.1 with its own temporary data directory and resolves
 * once it answers PING. Throws (never skips) when the binary is missing, saying how to install it.
 *
 * @example
 * const redis = await startRedisServer();
 * afterAll(() => redis.stop());
 * const store = new RedisEventStore({ redis: redis.url });
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = options.binary ?? process.env.GRANARY_REDIS_SERVER ?? "redis-server";
  const appendonly = options.appendonly ?? true;
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const dir = await mkdtemp(join(tmpdir(), "granary-redis-"));
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      appendonly ? "yes" : "no",
      "--dir",
      dir,
      "--daemonize",
      "no",
      ...(options.args ?? []),
    ];
    child = await spawnServer(binary, args, port, startTimeoutMs);
  };

  try {
    // A free port can be taken between probing and binding: retry on a fresh one unless fixed.
    for (let attempt = 1; ; attempt++) {
      try {
        await launch();
        break;
      } catch (error) {
        if (!(error instanceof PortInUseError) || options.port !== undefined || attempt >= 3) throw error;
        port = await freePort();
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
    running.kill("SIGCONT");
    running.kill(signal);
    const timer = setTimeout(() => running.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    live.delete(running);
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    get port() {
      return port;
    },
    dir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async stop(stopOptions = {}) {
      await terminate("SIGTERM");
      if (!stopOptions.keepData) await rm(dir, { recursive: true, force: true });
    },
    async kill() {
      await terminate("SIGKILL");
    },
    async restart() {
      await terminate("SIGTERM");
      // `stop()` removed the directory; redis-server needs it to exist.
      await mkdir(dir, { recursive: true });
      await launch();
    },
    pause() {
      child?.kill("SIGSTOP");
    },
    resume() {
      child?.kill("SIGCONT");
    },
  };
}

/** Raised when redis-server could not bind its port (someone took it after we probed it). */
class PortInUseError extends Error {}

async function spawnServer(
  binary: string,
  args: readonly string[],
  port: number,
  startTimeoutMs: number,
): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);

  const failed = new Promise<never>((_, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") {
        reject(
          new Error(
            `redis-server not found ("${binary}" is not on PATH). The Redis tests need a real server: install it with \`apt-get install -y redis-server\` (Debian/Ubuntu) or \`brew install redis\` (macOS), or point GRANARY_REDIS_SERVER at the binary`,
            { cause: error },
          ),
        );
      } else {
        reject(new Error(`could not start ${binary}: ${error.message}`, { cause: error }));
      }
    });
    child.once("exit", (code, signal) => {
      const reason = `${binary} exited (${signal ?? `code ${code}`}) before answering PING on port ${port}`;
      if (/address already in use/i.test(output)) reject(new PortInUseError(`${reason}: port in use`));
      else reject(new Error(`${reason}. Its output:\n${output}`));
    });
  });

  const deadline = Date.now() + startTimeoutMs;
  const ready = (async (): Promise<void> => {
    while (!(await answersPing(port))) {
      if (child.exitCode !== null || child.signalCode !== null) await failed;
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(
          `${binary} did not answer PING on port ${port} within ${startTimeoutMs} ms. Output:\n${output}`,
        );
      }
      await sleep(50);
    }
  })();
  await Promise.race([ready, failed]);
  // Past startup an exit is reported by `running`; keep the rejection from going unhandled.
  failed.catch(() => {});
  track(child);
  return child;
}

function track(child: ChildProcess): void {
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const server of live) server.kill("SIGKILL");
  });
}

/** Sends an inline PING and resolves true on `+PONG`. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      // "-LOADING" while the AOF is replayed: not ready yet.
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}
