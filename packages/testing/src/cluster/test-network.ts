import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

/** Who opens a connection: a silo (by its index in the cluster) or any client. */
export type Endpoint = number | "client";

interface Link {
  readonly from: Endpoint;
  readonly to: number;
  readonly server: Server;
  port: number;
  readonly sockets: Set<Socket>;
}

/**
 * The test cluster's network: every connection between two silos, or from a client to a silo, goes
 * through its own loopback relay, so one silo can be cut off from everyone (a crash or a partition)
 * while the others keep talking. Cutting resets the connections at once (peers see their calls in
 * flight fail) and refuses new ones, like a peer whose host is gone; it does not black-hole them,
 * which would leave calls waiting for their timeouts in real time.
 */
export class TestNetwork {
  readonly #links = new Map<string, Link>();
  readonly #targets = new Map<number, number>();
  readonly #cut = new Set<number>();
  #closed = false;

  /**
   * Makes silo `index`, listening on `port`, reachable from clients and from each silo in `peers`
   * (and them from it). Idempotent: a silo that rejoins under a new identity keeps its relays.
   */
  async expose(index: number, port: number, peers: readonly number[]): Promise<void> {
    this.#targets.set(index, port);
    const wanted: [Endpoint, number][] = [["client", index]];
    for (const peer of peers) {
      if (peer === index) continue;
      wanted.push([peer, index], [index, peer]);
    }
    await Promise.all(
      wanted.filter(([from, to]) => !this.#links.has(key(from, to))).map(([from, to]) => this.#open(from, to)),
    );
  }

  /** The port `from` connects to in order to reach silo `to`, if the two are linked. */
  port(from: Endpoint, to: number): number | undefined {
    return this.#links.get(key(from, to))?.port;
  }

  /** Silo `index` can reach nobody and nobody can reach it; open connections are reset. */
  cut(index: number): void {
    this.#cut.add(index);
    for (const link of this.#links.values()) {
      if (link.from !== index && link.to !== index) continue;
      for (const socket of link.sockets) socket.destroy();
      link.sockets.clear();
    }
  }

  /** Undoes `cut`: new connections to and from silo `index` get through again. */
  restore(index: number): void {
    this.#cut.delete(index);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const links = [...this.#links.values()];
    this.#links.clear();
    for (const link of links) for (const socket of link.sockets) socket.destroy();
    await Promise.all(links.map((link) => new Promise<void>((resolve) => link.server.close(() => resolve()))));
  }

  #blocked(link: Link): boolean {
    return this.#closed || this.#cut.has(link.to) || (link.from !== "client" && this.#cut.has(link.from));
  }

  async #open(from: Endpoint, to: number): Promise<void> {
    const sockets = new Set<Socket>();
    const server = createServer({ noDelay: true });
    const link: Link = { from, to, server, port: 0, sockets };
    server.on("connection", (inbound) => {
      const target = this.#targets.get(to);
      if (this.#blocked(link) || target === undefined) {
        inbound.destroy();
        return;
      }
      const outbound = tcpConnect({ host: "127.0.0.1", port: target, noDelay: true });
      const drop = (): void => {
        inbound.destroy();
        outbound.destroy();
        sockets.delete(inbound);
        sockets.delete(outbound);
      };
      for (const socket of [inbound, outbound]) {
        sockets.add(socket);
        socket.on("error", drop);
        socket.on("close", drop);
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    link.port = typeof address === "object" && address ? address.port : 0;
    this.#links.set(key(from, to), link);
  }
}

function key(from: Endpoint, to: number): string {
  return `${from}>${to}`;
}
