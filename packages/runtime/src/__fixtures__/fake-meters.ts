/** One value an observable gauge reported, with its attributes (undefined when it gave none). */
export interface Observation {
  readonly value: number;
  readonly attributes: Record<string, string> | undefined;
}

type Observe = (value: number, attributes?: Record<string, string>) => void;
type GaugeCallback = (result: { observe: Observe }) => void;

/**
 * A meter provider that only keeps observable gauges' callbacks (counters and histograms do
 * nothing), so a test can collect them. Install it with `metrics.setGlobalMeterProvider(provider
 * as never)` and `metrics.disable()` after the test.
 */
export function fakeMeters() {
  const gauges = new Map<string, GaugeCallback[]>();
  const noop = () => ({ add() {}, record() {} });
  const meter = {
    createObservableGauge: (name: string) => ({
      addCallback: (callback: GaugeCallback) => {
        gauges.set(name, [...(gauges.get(name) ?? []), callback]);
      },
      removeCallback: (callback: GaugeCallback) => {
        gauges.set(
          name,
          (gauges.get(name) ?? []).filter((c) => c !== callback),
        );
      },
    }),
    createCounter: noop,
    createUpDownCounter: noop,
    createHistogram: noop,
  };
  /** What every callback of the gauge `name` observes now. */
  const collect = (name: string): Observation[] => {
    const seen: Observation[] = [];
    for (const callback of gauges.get(name) ?? []) {
      callback({ observe: (value, attributes) => seen.push({ value, attributes }) });
    }
    return seen;
  };
  return { provider: { getMeter: () => meter }, collect, values: (name: string) => collect(name).map((o) => o.value) };
}
