import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isMetricsError } from './errors.js';
import { METRIC_NAMES } from './names.js';
import { startMetricsServer, type MetricsServer } from './server.js';
import { StaplewarmMetrics } from './staplewarm-metrics.js';
import { sampleValue } from './testing/exposition.js';

describe('startMetricsServer', () => {
  const started: MetricsServer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((server) => server.close()));
  });

  async function serve(metrics: StaplewarmMetrics): Promise<MetricsServer> {
    const server = await startMetricsServer(metrics, { port: 0 });
    started.push(server);
    return server;
  }

  it('serves the exposition on 127.0.0.1 with the Prometheus content type', async () => {
    const metrics = new StaplewarmMetrics();
    metrics.fetchObserved('ocsp.ca-one.test', 'http_429', 0.01);
    const server = await serve(metrics);
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(sampleValue(text, METRIC_NAMES.fetchesTotal, { responder: 'ocsp.ca-one.test', outcome: 'http_429' })).toBe(1);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('shows new events on the next scrape', async () => {
    const metrics = new StaplewarmMetrics({ defaultMetrics: false });
    const server = await serve(metrics);
    expect(sampleValue(await (await fetch(server.url)).text(), METRIC_NAMES.revokedTotal)).toBe(0);
    metrics.revocationSeen();
    expect(sampleValue(await (await fetch(server.url)).text(), METRIC_NAMES.revokedTotal)).toBe(1);
  });

  it('answers /healthz, 404 elsewhere and 405 for other methods', async () => {
    const server = await serve(new StaplewarmMetrics({ defaultMetrics: false }));
    const base = `http://127.0.0.1:${server.port}`;
    const health = await fetch(`${base}/healthz`);
    expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics/extra`)).status).toBe(404);
    const post = await fetch(server.url, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(`${server.url}?name[]=x`)).status).toBe(200);
  });

  it('rejects with listen-failed when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const err: unknown = await startMetricsServer(new StaplewarmMetrics({ defaultMetrics: false }), { port }).catch((e: unknown) => e);
      expect(isMetricsError(err) && err.code).toBe('listen-failed');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('rejects an invalid port with a typed error', async () => {
    const err: unknown = await startMetricsServer(new StaplewarmMetrics({ defaultMetrics: false }), {
      port: 70_000,
    }).catch((e: unknown) => e);
    expect(isMetricsError(err) && err.code).toBe('invalid-port');
  });

  it('closes promptly even with a keep-alive connection open', async () => {
    const server = await startMetricsServer(new StaplewarmMetrics({ defaultMetrics: false }), { port: 0 });
    const res = await fetch(server.url, { headers: { connection: 'keep-alive' } });
    await res.text();
    await server.close();
    await expect(fetch(server.url)).rejects.toThrow();
  });
});
