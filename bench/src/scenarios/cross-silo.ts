import type { BenchConfig } from "../lib/config.js";
import { EchoClient, startEchoServer } from "../lib/echo-link.js";
import { type CaseSpec, runCases } from "../lib/harness.js";
import { maxLatencyFactor, minShareOfBaseline } from "../lib/targets.js";
import { scratchDir } from "../lib/tmp.js";
import type { Row, Scenario, ScenarioResult } from "../lib/types.js";

const NAME = "cross-silo";
const TITLE = "Cross-silo call (client → silo in another process)";

/**
 * Why Granary's cross-process rows cannot run yet, or undefined once they can: they need the
 * cluster mode (`Silo.start({ redis, port })`) and `Client.connect` exported by @granary/runtime.
 */
export async function crossSiloAvailability(): Promise<string | undefined> {
  const runtime = (await import("@granary/runtime")) as Record<string, unknown>;
  const client = runtime.Client as { connect?: unknown } | undefined;
  if (typeof client?.connect !== "function") {
    return "cluster mode (Silo.start({ redis, port }) + Client.connect) has not landed in @granary/runtime";
  }
  return "cluster mode landed: the Granary rows of this scenario still have to be written";
}

interface Context {
  readonly echoPort: number;
}

function cases(config: BenchConfig, context: Context): CaseSpec[] {
  const raw = (inFlight: number): CaseSpec["setup"] => {
    return async () => {
      const client = await EchoClient.connect(context.echoPort);
      const args = [1];
      return {
        concurrency: inFlight,
        op: (worker) => client.call("BenchCounter", `c-${worker}`, "increment", args),
        teardown: async () => client.close(),
      };
    };
  };
  return config.inFlight.map((n) => ({
    name: `raw msgpackr echo over TCP, ${n} in flight`,
    role: "baseline",
    setup: raw(n),
  }));
}

/** 1, 16 and 256 calls in flight through a raw msgpackr echo over TCP; Granary rows when the cluster lands. */
export const crossSilo: Scenario = {
  name: NAME,
  title: TITLE,
  cases,
  async run(config: BenchConfig): Promise<ScenarioResult> {
    const dir = scratchDir(config, NAME);
    const server = await startEchoServer(dir.path);
    try {
      const context: Context = { echoPort: server.port };
      const rows: Row[] = await runCases(NAME, cases(config, context), config, context);
      const reason = await crossSiloAvailability();
      for (const n of config.inFlight) {
        rows.push({
          name: `granary client → silo, ${n} in flight`,
          role: "granary",
          baseline: `raw msgpackr echo over TCP, ${n} in flight`,
          targets: [maxLatencyFactor(1.5), minShareOfBaseline(0.5)].map((t) => ({
            label: t.label,
            met: false,
            actual: "not measured",
          })),
          unavailable: reason ?? "not measured",
        });
      }
      return {
        scenario: NAME,
        title: TITLE,
        status: "ok",
        rows,
        settings: {
          transport:
            "TCP on 127.0.0.1, Nagle off, one connection, writes coalesced per tick (process.nextTick) on both sides",
          serverProcess: "a separate node process (its own event loop, as a remote silo)",
          inFlight: config.inFlight,
        },
        notes: [
          "Baseline: length-prefixed msgpackr frames, replies matched by id, echo server in another process. It isolates loopback TCP, two event loops and the codec: the floor under any RPC; the Granary rows add the handshake-authenticated transport, the client, directory lookup and the actor turn.",
        ],
      };
    } finally {
      await server.stop();
      dir.remove();
    }
  },
};
