import { pino } from "pino";
import { afterEach } from "vitest";
import { connectTransport } from "../messaging/connect.js";
import { listenTransport, type TransportServer, type TransportServerOptions } from "../messaging/server.js";

export const clusterKey = "test-cluster-key-0123456789abcdef";

/**
 * Registers an afterEach that undoes, newest first, everything the test handed to the returned
 * function (servers, connections, sockets, files), so a failed test leaves nothing open.
 */
export function useCleanup(): (undo: () => unknown) => void {
  const undos: Array<() => unknown> = [];
  afterEach(async () => {
    for (const undo of undos.splice(0).reverse()) await undo();
  });
  return (undo) => {
    undos.push(undo);
  };
}

/**
 * Loopback transport servers and connections on {@link clusterKey}, closed after each test. A
 * server answers every request with its payload unless told otherwise.
 */
export function useTransport() {
  const cleanup = useCleanup();
  return {
    cleanup,
    async serve(options: Partial<TransportServerOptions> = {}): Promise<TransportServer> {
      const server = await listenTransport({ clusterKey, onRequest: (payload) => payload, ...options });
      cleanup(() => server.close());
      return server;
    },
    async connect(server: TransportServer, options: Partial<Parameters<typeof connectTransport>[0]> = {}) {
      const connection = await connectTransport({
        host: "127.0.0.1",
        port: server.address.port,
        clusterKey,
        ...options,
      });
      cleanup(() => connection.destroy());
      return connection;
    },
  };
}

/** A debug-level logger whose JSON lines the test reads; `warnings()` are the level-40 ones. */
export function captureLogs<Line extends { readonly level: number }>() {
  const lines: Line[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line) as Line) });
  return { logger, lines, warnings: () => lines.filter((line) => line.level === 40) };
}
