import { silentLogger } from '@staplewarm/queue';
import { describe, expect, it } from 'vitest';
import { startMetricsEndpoint } from './metrics-endpoint.js';

const config = { metricsHost: '127.0.0.1', prefix: 'ocsp:' };

describe('startMetricsEndpoint', () => {
  it('does nothing with port 0', async () => {
    const endpoint = await startMetricsEndpoint({ ...config, metricsPort: 0 }, { log: silentLogger });
    expect([endpoint.metrics, endpoint.observer, endpoint.url]).toEqual([undefined, undefined, undefined]);
    await endpoint.close();
  });

  it('serves what the worker observes on /metrics', async () => {
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const endpoint = await startMetricsEndpoint({ ...config, metricsPort: port }, { log: silentLogger });
    try {
      expect(endpoint.url).toBe(`http://127.0.0.1:${port}/metrics`);
      endpoint.observer!.fetchObserved('ocsp.ca.test', 'http_429', 0.01);
      endpoint.observer!.rateLimited('ocsp.ca.test', 1.5);
      endpoint.observer!.revocationSeen();
      // A value the registry refuses (a URL as label) is dropped, never thrown into a job.
      expect(() => endpoint.observer!.fetchObserved('http://not a host/', 'ok', 0.01)).not.toThrow();
      const text = await (await fetch(endpoint.url!)).text();
      expect(text).toContain('staplewarm_fetches_total{responder="ocsp.ca.test",outcome="http_429"} 1');
      expect(text).toContain('staplewarm_rate_limited_seconds_total{responder="ocsp.ca.test"} 1.5');
      expect(text).toContain('staplewarm_revoked_total 1');
    } finally {
      await endpoint.close();
    }
  });
});
