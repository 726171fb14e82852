import { metrics } from "@opentelemetry/api";
import type { TransportServer } from "../messaging/server.js";

/**
 * The silo's listener as OpenTelemetry observable gauges (no-ops until the application registers an
 * SDK): `granary.transport.connections` (authenticated connections open) and
 * `granary.transport.buffered_frame_bytes` (bytes held for frames still arriving, bounded by
 * `maxBufferedFrameBytes`). Returns the function that detaches them.
 */
export function registerTransportGauges(server: TransportServer): () => void {
  const meter = metrics.getMeter("@granary/runtime");
  const connections = meter.createObservableGauge("granary.transport.connections", {
    description: "Authenticated connections open on this silo's listener",
  });
  const buffered = meter.createObservableGauge("granary.transport.buffered_frame_bytes", {
    unit: "By",
    description: "Bytes held for frames still arriving on this silo's listener (bounded by maxBufferedFrameBytes)",
  });
  const observeConnections = (result: { observe(value: number): void }): void =>
    result.observe(server.connections.size);
  const observeBuffered = (result: { observe(value: number): void }): void => result.observe(server.bufferedFrameBytes);
  connections.addCallback(observeConnections);
  buffered.addCallback(observeBuffered);
  return () => {
    connections.removeCallback(observeConnections);
    buffered.removeCallback(observeBuffered);
  };
}
