/**
 * A worker SIGKILLed mid-run costs seconds, not minutes, and loses nothing: two `staplewarm worker`
 * processes and `warm --no-work` against a simulator limited to 100 req/s; one worker is killed while
 * it holds jobs, batches of 16 certificates (warm's default, given here). Its jobs come back when
 * their 10 s lock runs out (BullMQ's stalled-job check every 5 s), the other worker fetches what is
 * left of them, and every certificate is counted once.
 */
import { startResponder, type Responder } from '@staplewarm/responder-sim';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, connectTestRedis, deletePrefix, freePort, runCli, testPrefix } from '@staplewarm/testing';
import { makePki, startWorkerProcess, waitFor, type TestPki, type WorkerProcess } from './rate-limit-fixtures.js';

const RATE = 100;
const CERTS = 600;

describe('a worker killed mid-run', () => {
  let redis: Redis;
  let pki: TestPki;
  let responder: Responder;
  const workers: WorkerProcess[] = [];
  const prefix = testPrefix('worker-kill');

  beforeAll(async () => {
    redis = await connectTestRedis();
    const port = await freePort();
    pki = await makePki('kill', CERTS, port);
    responder = await startResponder({ pkiDir: pki.dir, port, latencyMs: 20, presign: true });
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await responder?.close();
    await pki?.remove();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('costs at most its jobs lock time over the floor, and every certificate is stored and counted once', { timeout: 90_000 }, async () => {
    // The host's budget is the whole limit: the floor is CERTS / RATE = 6 s.
    const args = ['--redis', REDIS_URL, '--prefix', prefix, '--default-host-rate', String(RATE), '--metrics-port', '0'];
    for (let i = 0; i < 2; i++) workers.push(await startWorkerProcess(args));
    const started = Date.now();
    const warm = runCli(['warm', '--no-work', '--batch-size', '16', '--certs', pki.live, '--json', ...args.slice(0, 6)]);
    // Kill one worker once the run is well under way: it holds jobs (in flight or waiting for slots).
    await waitFor('a third of the requests', () => responder.stats().requests >= CERTS / 3, 30_000);
    workers[0]!.process.kill('SIGKILL');
    const result = await warm;
    const elapsed = (Date.now() - started) / 1000;
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { stored: { good: number }; fetched: number; failures: unknown[]; complete: boolean };
    expect(summary).toMatchObject({ fetched: CERTS, stored: { good: CERTS }, failures: [], complete: true });
    // Floor 6 s; the dead worker's jobs wait out their lock (10 s) and the next stalled check (5 s).
    expect(elapsed).toBeLessThan(CERTS / RATE + 15 + 3);
    // Every certificate has its staple in Redis (SCAN, never KEYS: the Redis is shared).
    let staples = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}staple:*`, 'COUNT', 1000);
      cursor = next;
      staples += keys.length;
    } while (cursor !== '0');
    expect(staples).toBe(CERTS);
  });
});
