import { afterEach, describe, expect, it } from 'vitest';
import { isMetricsError } from './errors.js';
import { RELAY_METRIC_NAMES, RELAY_REQUEST_RESULTS, RelayMetrics, type RelayRequestResult } from './relay-metrics.js';
import { startMetricsServer, type MetricsServer } from './server.js';
import { sampleValue } from './testing/exposition.js';

describe('RelayMetrics', () => {
  const started: MetricsServer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((server) => server.close()));
  });

  it('exports every result from the start, as 0', async () => {
    const text = await new RelayMetrics({ defaultMetrics: false }).text();
    for (const result of RELAY_REQUEST_RESULTS) expect(sampleValue(text, RELAY_METRIC_NAMES.requestsTotal, { result })).toBe(0);
    expect(sampleValue(text, RELAY_METRIC_NAMES.fetchRequestsTotal)).toBe(0);
  });

  it('counts requests by result, their latency in the histogram, and requested fetches', async () => {
    const metrics = new RelayMetrics({ defaultMetrics: false });
    metrics.answered('memory', 0.0003);
    metrics.answered('memory', 0.0004);
    metrics.answered('fetched', 0.8);
    metrics.fetchRequested();
    const text = await metrics.text();
    expect(sampleValue(text, RELAY_METRIC_NAMES.requestsTotal, { result: 'memory' })).toBe(2);
    expect(sampleValue(text, RELAY_METRIC_NAMES.requestsTotal, { result: 'fetched' })).toBe(1);
    expect(sampleValue(text, `${RELAY_METRIC_NAMES.requestDurationSeconds}_bucket`, { result: 'memory', le: '0.0005' })).toBe(2);
    expect(sampleValue(text, `${RELAY_METRIC_NAMES.requestDurationSeconds}_bucket`, { result: 'fetched', le: '0.5' })).toBe(0);
    expect(sampleValue(text, `${RELAY_METRIC_NAMES.requestDurationSeconds}_bucket`, { result: 'fetched', le: '1' })).toBe(1);
    expect(sampleValue(text, RELAY_METRIC_NAMES.fetchRequestsTotal)).toBe(1);
  });

  it('refuses an unknown result and a negative duration', () => {
    const metrics = new RelayMetrics({ defaultMetrics: false });
    const refused = (fn: () => void, code: string): void => {
      let caught: unknown;
      try {
        fn();
      } catch (err) {
        caught = err;
      }
      expect(isMetricsError(caught) && caught.code).toBe(code);
    };
    refused(() => metrics.answered('bogus' as RelayRequestResult, 0.1), 'invalid-label');
    refused(() => metrics.answered('memory', -1), 'invalid-value');
  });

  it('is served on /metrics (with the Node.js process metrics) and /healthz by the metrics server', async () => {
    const metrics = new RelayMetrics();
    metrics.answered('redis', 0.001);
    const server = await startMetricsServer(metrics, { port: 0 });
    started.push(server);
    const text = await (await fetch(server.url)).text();
    expect(sampleValue(text, RELAY_METRIC_NAMES.requestsTotal, { result: 'redis' })).toBe(1);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(await (await fetch(server.url.replace('/metrics', '/healthz'))).text()).toBe('ok\n');
  });
});
