/** Entry of a benchmark silo's child process: see startRemoteSilo. Prints "ready" once it serves. */
import { hostSilo, type RemoteSiloOptions } from "./remote-silo.js";

const options = JSON.parse(process.env.BENCH_SILO_OPTIONS ?? "{}") as RemoteSiloOptions;
const silo = await hostSilo(options);
process.stdout.write("ready\n");
const stop = async () => {
  await silo.stop();
  process.exit(0);
};
process.once("SIGTERM", () => void stop());
process.on("message", async () => process.send?.({ activations: await silo.activations() }));
process.once("disconnect", () => void stop());
