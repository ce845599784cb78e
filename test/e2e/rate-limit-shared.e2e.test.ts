/**
 * The global limit is shared: two `staplewarm worker` processes and a `warm --no-work` that only
 * enqueues, all with `--rate 100`, against a simulator that would take any rate. The simulator must
 * never see more than 100 requests in a second, and both workers must have done part of the work.
 */
import { startResponder, type Responder } from '@staplewarm/responder-sim';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, connectTestRedis, deletePrefix, freePort, runCli, testPrefix } from '@staplewarm/testing';
import { fetchesTotal, makePki, sampleResponder, startWorkerProcess, type TestPki, type WorkerProcess } from './rate-limit-fixtures.js';

const RATE = 100;
const CERTS = 500;

describe('two workers and warm --no-work share one global rate', () => {
  let redis: Redis;
  let pki: TestPki;
  let responder: Responder;
  const workers: WorkerProcess[] = [];
  const prefix = testPrefix('shared-rate');

  beforeAll(async () => {
    redis = await connectTestRedis();
    const port = await freePort();
    pki = await makePki('shared', CERTS, port);
    responder = await startResponder({ pkiDir: pki.dir, port, latencyMs: 5, presign: true });
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await responder?.close();
    await pki?.remove();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('never exceeds --rate in total, whatever the number of processes', async () => {
    const metricsPorts = [await freePort(), await freePort()];
    for (const port of metricsPorts) {
      workers.push(
        await startWorkerProcess(['--redis', REDIS_URL, '--prefix', prefix, '--rate', String(RATE), '--metrics-port', String(port)]),
      );
    }
    const sampler = sampleResponder(responder);
    const warm = await runCli([
      'warm',
      '--no-work',
      '--certs',
      pki.live,
      '--redis',
      REDIS_URL,
      '--prefix',
      prefix,
      '--rate',
      String(RATE),
      '--json',
    ]);
    sampler.stop();

    const summary = JSON.parse(warm.stdout) as { stored: { good: number }; complete: boolean };
    expect(summary).toMatchObject({ stored: { good: CERTS }, complete: true });
    // The simulator counts requests over a sliding second (ten 100 ms buckets): a rate of 100/s
    // shows at most 100 plus one bucket's worth of rounding.
    const peak = Math.max(...sampler.samples.map((s) => s.perSecond));
    expect(peak).toBeGreaterThan(RATE / 2);
    expect(peak).toBeLessThanOrEqual(RATE * 1.1);

    // Both processes took part.
    const fetched = await Promise.all(
      metricsPorts.map(async (port) => fetchesTotal(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), 'ok')),
    );
    expect(fetched.every((n) => n > CERTS / 10)).toBe(true);
    expect(fetched[0]! + fetched[1]!).toBe(CERTS);
  });
});
