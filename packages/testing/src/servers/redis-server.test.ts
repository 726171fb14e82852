import { existsSync } from "node:fs";
import { createConnection } from "node:net";
import { describe, expect, it } from "vitest";
import { startRedisServer } from "./redis-server.js";

/** Sends one inline command and returns the first reply line. */
function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    socket.once("error", reject);
    socket.once("connect", () => socket.write(`${line}\r\n`));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) {
        socket.destroy();
        resolve(reply);
      }
    });
  });
}

describe("startRedisServer", () => {
  it("starts a server that answers, and stop() removes its data directory", async () => {
    const server = await startRedisServer();
    try {
      expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
      expect(await command(server.port, "PING")).toBe("+PONG\r\n");
      expect(existsSync(server.dir)).toBe(true);
    } finally {
      await server.stop();
    }
    expect(server.running).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
    await expect(command(server.port, "PING")).rejects.toThrow();
  });

  it("restart() after stop({ keepData }) comes back on the same port with the data (AOF)", async () => {
    const server = await startRedisServer({ appendonly: true });
    try {
      await command(server.port, "SET greeting hello");
      await server.stop({ keepData: true });
      await expect(command(server.port, "PING")).rejects.toThrow();
      await server.restart();
      expect(await command(server.port, "GET greeting")).toContain("hello");
      await server.kill();
      await server.restart();
      expect(await command(server.port, "GET greeting")).toContain("hello");
    } finally {
      await server.stop();
    }
  });

  it("a missing binary is an error that says how to install redis-server", async () => {
    await expect(startRedisServer({ binary: "/nonexistent/redis-server" })).rejects.toThrow(
      /apt-get install -y redis-server/,
    );
  });
});
