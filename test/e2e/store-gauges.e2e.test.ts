/**
 * Issue 12: the gauges that describe the store (`staplewarm_staple_expiry_seconds`,
 * `staplewarm_staples_by_remaining_lifetime`) carry the store's real figures in `warm --textfile`
 * and from a worker's first scrape. They used to say +Inf and 0 (the empty start values) right
 * after staples were stored, so a dashboard showed "no staples" when there were thousands.
 *
 * The simulator signs responses valid for 30 h: every staple belongs in the `2d` bucket and none in
 * `1d`, so a bucket that counts the wrong window shows too. The expected figures are read from the
 * store's meta hashes here, not from staplewarm's code.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startResponder, type Responder } from '@staplewarm/responder-sim';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleValue } from '../../packages/metrics/src/testing/exposition.js';
import { REDIS_URL, connectTestRedis, deletePrefix, freePort, runCli, testPrefix } from '@staplewarm/testing';
import { makePki, startWorkerProcess, type TestPki, type WorkerProcess } from './rate-limit-fixtures.js';

const COUNT = 40;
const VALIDITY_HOURS = 30;

/** Every stored staple's nextUpdate (epoch ms), straight from the meta hashes of `prefix`. */
async function storedNextUpdates(redis: Redis, prefix: string): Promise<number[]> {
  const nextUpdates: number[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}meta:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const [status, nextUpdate] = await redis.hmget(key, 'status', 'nextUpdate');
      if ((status === 'good' || status === 'revoked') && nextUpdate) nextUpdates.push(Date.parse(nextUpdate));
    }
  } while (cursor !== '0');
  return nextUpdates;
}

/** The exposition describes these staples, as of `at` (epoch ms; the expiry may be off by the clock's drift during the check). */
function expectStoreFigures(exposition: string, nextUpdates: number[], at: number): void {
  const bucket = (within: string) => sampleValue(exposition, 'staplewarm_staples_by_remaining_lifetime', { within });
  expect(bucket('any'), 'staples in the store').toBe(nextUpdates.length);
  expect(bucket('7d')).toBe(nextUpdates.length);
  expect(bucket('2d')).toBe(nextUpdates.length);
  expect(bucket('1d')).toBe(0);
  const expiry = sampleValue(exposition, 'staplewarm_staple_expiry_seconds');
  expect(Number.isFinite(expiry), `staplewarm_staple_expiry_seconds ${expiry}`).toBe(true);
  const soonest = (Math.min(...nextUpdates) - at) / 1000;
  expect(Math.abs((expiry ?? 0) - soonest), `expiry ${expiry} s, soonest staple ${soonest} s away`).toBeLessThan(10);
}

describe('store gauges right after staples are stored', () => {
  let redis: Redis;
  let pki: TestPki;
  let responder: Responder;
  let worker: WorkerProcess | undefined;
  const prefixes: string[] = [];

  beforeAll(async () => {
    redis = await connectTestRedis();
    const port = await freePort();
    pki = await makePki('gauges', COUNT, port);
    responder = await startResponder({ pkiDir: pki.dir, port, validityHours: VALIDITY_HOURS, presign: true });
  });

  afterAll(async () => {
    await worker?.stop();
    await responder?.close();
    for (const prefix of prefixes) await deletePrefix(redis, prefix);
    redis?.disconnect();
    await pki?.remove();
  });

  it('warm --textfile writes the lifetimes and the soonest expiry of the staples in the store', async () => {
    const prefix = testPrefix('gauges-warm');
    prefixes.push(prefix);
    const textfile = join(pki.dir, 'staplewarm.prom');
    const run = await runCli([
      'warm',
      '--certs',
      pki.live,
      '--redis',
      REDIS_URL,
      '--prefix',
      prefix,
      '--rate',
      '0',
      '--json',
      '--textfile',
      textfile,
    ]);
    expect(run.code, run.stderr).toBe(0);

    const nextUpdates = await storedNextUpdates(redis, prefix);
    expect(nextUpdates).toHaveLength(COUNT);
    const written = (await stat(textfile)).mtimeMs;
    expectStoreFigures(await readFile(textfile, 'utf8'), nextUpdates, written);
  });

  it("a worker's first scrape shows the staples it stored since it started", async () => {
    const prefix = testPrefix('gauges-worker');
    prefixes.push(prefix);
    const metricsPort = await freePort();
    // The worker starts on an empty store: whatever it shows later, it learnt after its start.
    worker = await startWorkerProcess(['--redis', REDIS_URL, '--prefix', prefix, '--rate', '0', '--metrics-port', String(metricsPort)]);
    const run = await runCli(['warm', '--no-work', '--certs', pki.live, '--redis', REDIS_URL, '--prefix', prefix, '--json']);
    expect(run.code, run.stderr).toBe(0);

    const nextUpdates = await storedNextUpdates(redis, prefix);
    expect(nextUpdates).toHaveLength(COUNT);
    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(response.status).toBe(200);
    expectStoreFigures(await response.text(), nextUpdates, Date.now());
  });
});
