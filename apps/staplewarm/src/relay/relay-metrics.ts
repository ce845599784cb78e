/**
 * `/metrics` of `staplewarm relay`: RelayMetrics (packages/metrics) on the `--metrics-port`
 * convention of the other long-running commands, adapted to the relay's observer.
 */
import { RelayMetrics, startMetricsServer, type RelayRequestResult } from '@staplewarm/metrics';
import type { RelayLogger, RelayObserver, RelayResult } from '@staplewarm/relay';
import type { Config } from '../config.js';
import { metricsGuard } from '../metrics-guard.js';

/** Compile-time check: the relay's results and the metric's label values are the same words. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const RESULTS_AGREE: Same<RelayResult, RelayRequestResult> = true;

export interface RelayMetricsEndpoint {
  observer: RelayObserver | undefined;
  url: string | undefined;
  close(): Promise<void>;
}

/** Starts `/metrics` and `/healthz` unless the port is 0. */
export async function startRelayMetrics(
  config: Pick<Config, 'metricsPort' | 'metricsHost'>,
  log: RelayLogger,
): Promise<RelayMetricsEndpoint> {
  if (config.metricsPort === 0) return { observer: undefined, url: undefined, close: () => Promise.resolve() };
  const metrics = new RelayMetrics();
  const server = await startMetricsServer(metrics, { port: config.metricsPort, host: config.metricsHost });
  log.info({ url: server.url }, `metrics: serving ${server.url}`);
  return { observer: relayObserver(metrics, log), url: server.url, close: () => server.close() };
}

/** A metric that refuses a value is logged once, never thrown into a request. */
export function relayObserver(metrics: RelayMetrics, log: RelayLogger): RelayObserver {
  void RESULTS_AGREE;
  const guard = metricsGuard(log);
  return {
    answered: (result, seconds) => guard(() => metrics.answered(result, seconds)),
    fetchRequested: () => guard(() => metrics.fetchRequested()),
  };
}
