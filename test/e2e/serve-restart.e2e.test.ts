/**
 * `serve` killed with SIGKILL in the middle of a cold start, then started again: the cold start
 * completes, no certificate is lost, none is fetched more than twice. And two `serve` processes
 * sharing one Redis fetch each certificate once. Requests are counted per certificate by a proxy in
 * front of the simulator (the certificates' OCSP URL points at it).
 */
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, testPrefix } from '@staplewarm/testing';
import {
  ServeProcess,
  countStapled,
  serveArgs,
  startServeFixture,
  targetsOf,
  waitFor,
  waitForStapled,
  type ServeFixture,
} from './serve-harness.js';

const COUNT = 1_500;

/** Forwards OCSP requests to the simulator and counts them by request (base64 DER, GET or POST), with their times. */
async function startCountingProxy(
  port: number,
  upstreamPort: number,
): Promise<{ counts: Map<string, number>; times: Map<string, number[]>; server: Server }> {
  const counts = new Map<string, number>();
  const times = new Map<string, number[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const key = req.method === 'GET' ? decodeURIComponent((req.url ?? '/').slice(1)) : body.toString('base64');
      counts.set(key, (counts.get(key) ?? 0) + 1);
      times.set(key, [...(times.get(key) ?? []), Date.now()]);
      const upstream = request(
        { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { counts, times, server };
}

describe('serve restarted after SIGKILL mid cold start', () => {
  let fx: ServeFixture;
  let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
  let serve: ServeProcess | undefined;
  const prefix = testPrefix('serve-restart');
  const pairPrefix = testPrefix('serve-pair');
  const fps = () => fx.manifest.leaves.map((l) => l.fingerprint);
  const start = (under = prefix) =>
    new ServeProcess(serveArgs(join(fx.dir, 'live'), under, 250, '--concurrency', '16', '--scan-interval', '3600'));
  const fetchesPerCertificate = async () =>
    [...(await targetsOf(join(fx.dir, 'live'))).values()].map((t) => proxy.counts.get(t.request) ?? 0);

  beforeAll(async () => {
    // The certificates' OCSP URL names the counting proxy, which forwards to the simulator.
    const proxyPort = await freePort();
    fx = await startServeFixture({
      label: 'serve-restart',
      count: COUNT,
      prefixes: [prefix, pairPrefix],
      responder: { presign: true },
      ocspPort: proxyPort,
    });
    proxy = await startCountingProxy(proxyPort, fx.responder.port);
  });

  afterAll(async () => {
    await ServeProcess.stopAll();
    proxy?.server.close();
    proxy?.server.closeAllConnections();
    await fx?.close();
  });

  it('completes the cold start with no certificate lost and none fetched more than twice', async () => {
    serve = start();
    await serve.ready();
    await waitFor(async () => (await countStapled(fx.redis, prefix, fps())) >= COUNT / 4, 30_000, 'a quarter of the cold start');
    await serve.kill();
    const atKill = await countStapled(fx.redis, prefix, fps());
    expect(atKill).toBeLessThan(COUNT);

    serve = start();
    const rescan = await serve.ready();
    expect(rescan.tracked).toBe(COUNT);
    // Jobs the killed process was running come back once BullMQ finds them stalled (their locks expire).
    await waitForStapled(fx.redis, prefix, fps(), 100_000, 'every staple after the restart');

    const perCertificate = await fetchesPerCertificate();
    expect(perCertificate.every((n) => n >= 1)).toBe(true);
    expect(Math.max(...perCertificate)).toBeLessThanOrEqual(2);
    expect(fx.responder.stats().byOutcome.ok).toBe([...proxy.counts.values()].reduce((a, b) => a + b, 0));
    expect(await serve.stop()).toBe(0);
    serve = undefined;
  }, 150_000);

  it('fetches each certificate once when two serve processes share one Redis', async () => {
    proxy.counts.clear();
    proxy.times.clear();
    const pair = [start(pairPrefix), start(pairPrefix)];
    try {
      await Promise.all(pair.map((p) => p.ready()));
      await waitForStapled(fx.redis, pairPrefix, fps(), 40_000, 'the shared cold start');
      await new Promise((r) => setTimeout(r, 1_000)); // room for a duplicate to show up
      // On failure, say when each duplicate was fetched and what its meta recorded (a retried error?).
      const twice = [...(await targetsOf(join(fx.dir, 'live'))).values()].filter((t) => (proxy.counts.get(t.request) ?? 0) > 1);
      const detail = await Promise.all(
        twice
          .slice(0, 5)
          .map(
            async (t) =>
              `${t.fingerprint} at ${String(proxy.times.get(t.request))}: ${JSON.stringify(await fx.redis.hgetall(`${pairPrefix}meta:${t.fingerprint}`))}`,
          ),
      );
      expect(new Set(await fetchesPerCertificate()), `${twice.length} fetched twice, e.g.\n${detail.join('\n')}`).toEqual(new Set([1]));
    } finally {
      await Promise.all(pair.map((p) => p.stop()));
    }
  });
});
