import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Packr } from "msgpackr";

/**
 * The raw baseline of a cross-process call: length-prefixed msgpackr frames over one TCP
 * connection, replies matched by id, writes coalesced per tick on both sides. What remains is
 * the kernel's loopback, two event loops and the codec: the floor under any RPC over TCP.
 */
const SERVER_SOURCE = (benchPackageJson: string) => `
import { createServer } from "node:net";
import { createRequire } from "node:module";
const { Packr } = createRequire(${JSON.stringify(benchPackageJson)})("msgpackr");
const packr = new Packr({ useRecords: false });
const server = createServer((socket) => {
  socket.setNoDelay(true);
  let buffered = Buffer.alloc(0);
  let out = [];
  let scheduled = false;
  const flush = () => { scheduled = false; const frames = out; out = []; socket.write(frames.length === 1 ? frames[0] : Buffer.concat(frames)); };
  socket.on("data", (chunk) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    let offset = 0;
    while (buffered.length - offset >= 4) {
      const length = buffered.readUInt32BE(offset);
      if (buffered.length - offset - 4 < length) break;
      const request = packr.unpack(buffered.subarray(offset + 4, offset + 4 + length));
      offset += 4 + length;
      const body = packr.pack({ id: request.id, result: request.args });
      const frame = Buffer.allocUnsafe(4 + body.length);
      frame.writeUInt32BE(body.length, 0);
      body.copy(frame, 4);
      out.push(frame);
    }
    buffered = buffered.subarray(offset);
    if (out.length > 0 && !scheduled) { scheduled = true; process.nextTick(flush); }
  });
  socket.on("error", () => {});
});
server.listen(0, "127.0.0.1", () => process.stdout.write(JSON.stringify({ port: server.address().port }) + "\\n"));
process.on("disconnect", () => process.exit(0));
`;

export interface EchoServer {
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts the echo server in a child process (another event loop, like a remote silo). */
export async function startEchoServer(dir: string): Promise<EchoServer> {
  const script = join(dir, "echo-server.mjs");
  writeFileSync(script, SERVER_SOURCE(fileURLToPath(new URL("../../package.json", import.meta.url))));
  const child: ChildProcess = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit", "ipc"] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split("\n")[0];
      if (text.includes("\n") && line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once("exit", (code) => reject(new Error(`echo server exited with ${code}`)));
  });
  return {
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill();
      await exited;
    },
  };
}

/** The client side: multiplexed requests over one socket, writes coalesced per tick. */
export class EchoClient {
  readonly #socket: Socket;
  readonly #packr = new Packr({ useRecords: false });
  readonly #pending = new Map<number, (value: unknown) => void>();
  #nextId = 1;
  #out: Buffer[] = [];
  #scheduled = false;
  #buffered: Buffer = Buffer.alloc(0);

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
  }

  static connect(port: number): Promise<EchoClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => resolve(new EchoClient(socket)));
      socket.once("error", reject);
    });
  }

  /** Sends a call-shaped request and resolves with the echoed arguments. */
  call(actorType: string, actorId: string, method: string, args: unknown[]): Promise<unknown> {
    const id = this.#nextId++;
    const body = this.#packr.pack({ id, actorType, actorId, method, args });
    const frame = Buffer.allocUnsafe(4 + body.length);
    frame.writeUInt32BE(body.length, 0);
    body.copy(frame, 4);
    this.#out.push(frame);
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(() => this.#flush());
    }
    return new Promise((resolve) => this.#pending.set(id, resolve));
  }

  close(): void {
    this.#socket.destroy();
  }

  #flush(): void {
    this.#scheduled = false;
    const frames = this.#out;
    this.#out = [];
    this.#socket.write(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames));
  }

  #onData(chunk: Buffer): void {
    const buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    let offset = 0;
    while (buffered.length - offset >= 4) {
      const length = buffered.readUInt32BE(offset);
      if (buffered.length - offset - 4 < length) break;
      const reply = this.#packr.unpack(buffered.subarray(offset + 4, offset + 4 + length)) as {
        id: number;
        result: unknown;
      };
      offset += 4 + length;
      const resolve = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      resolve?.(reply.result);
    }
    this.#buffered = buffered.subarray(offset);
  }
}
