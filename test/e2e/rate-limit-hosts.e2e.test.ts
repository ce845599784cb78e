/**
 * Hosts are independent: with one responder answering only 429 (Retry-After: 60), not listening at
 * all, or never answering, a `staplewarm worker` staples every certificate of the healthy responder
 * while the other host's certificates are still waiting. The two sets are enqueued together,
 * interleaved.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { readManifest, startResponder, type Responder } from '@staplewarm/responder-sim';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, STAPLEWARM_BIN, connectTestRedis, deletePrefix, freePort, testPrefix } from '@staplewarm/testing';
import { makePki, startWorkerProcess, waitFor, type TestPki, type WorkerProcess } from './rate-limit-fixtures.js';

const CERTS = 200;

async function countKeys(redis: Redis, pattern: string): Promise<number> {
  let count = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    count += keys.length;
  } while (cursor !== '0');
  return count;
}

describe('one responder host down or limited does not delay another', () => {
  let redis: Redis;
  let healthyPki: TestPki;
  let healthy: Responder;
  let limitedPki: TestPki;
  let limited: Responder;
  let downPki: TestPki;
  let hangingPki: TestPki;
  let hanging: Responder;
  const running: { worker?: WorkerProcess; warm?: ChildProcess } = {};
  let prefix = '';

  beforeAll(async () => {
    redis = await connectTestRedis();
    const [healthyPort, limitedPort, downPort, hangingPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    [healthyPki, limitedPki, downPki, hangingPki] = await Promise.all([
      makePki('healthy', CERTS, healthyPort),
      makePki('limited', CERTS, limitedPort),
      // Nothing listens on this port: every attempt is refused.
      makePki('down', CERTS, downPort),
      makePki('hanging', CERTS, hangingPort),
    ]);
    hanging = await startResponder({ pkiDir: hangingPki.dir, port: hangingPort, presign: true, faults: { hang: true } });
    healthy = await startResponder({ pkiDir: healthyPki.dir, port: healthyPort, latencyMs: 5, presign: true });
    limited = await startResponder({ pkiDir: limitedPki.dir, port: limitedPort, retryAfter: 60, presign: true, faults: { only429: true } });
  });

  afterEach(async () => {
    running.warm?.kill('SIGTERM');
    await running.worker?.stop();
    await deletePrefix(redis, prefix);
  });

  afterAll(async () => {
    await Promise.all([healthy?.close(), limited?.close(), hanging?.close()]);
    await Promise.all([healthyPki, limitedPki, downPki, hangingPki].map((pki) => pki?.remove()));
    redis.disconnect();
  });

  /** One certificate store holding both sets, names interleaved (site00001.healthy, site00001.limited...). */
  async function mixedStore(other: TestPki, label: string): Promise<string> {
    const dir = join(other.dir, 'mixed');
    await mkdir(dir);
    for (let i = 1; i <= CERTS; i++) {
      const name = `site${String(i).padStart(5, '0')}`;
      await symlink(join(healthyPki.live, `${name}.healthy.test`), join(dir, `${name}.healthy.test`));
      await symlink(join(other.live, `${name}.${label}.test`), join(dir, `${name}.${label}.test`));
    }
    return dir;
  }

  async function startBoth(other: TestPki, label: string, env: Record<string, string> = {}): Promise<void> {
    prefix = testPrefix('hosts');
    running.worker = await startWorkerProcess(['--redis', REDIS_URL, '--prefix', prefix, '--metrics-port', '0'], env);
    // warm --no-work only enqueues and waits: it never finishes while the other host holds jobs.
    running.warm = spawn(
      process.execPath,
      [STAPLEWARM_BIN, 'warm', '--no-work', '--certs', await mixedStore(other, label), '--redis', REDIS_URL, '--prefix', prefix, '--json'],
      {
        env: { ...process.env, STAPLEWARM_LOG_LEVEL: 'warn' },
        stdio: 'ignore',
      },
    );
  }

  it('staples the healthy host while the other answers only 429 with Retry-After: 60', async () => {
    const okBefore = healthy.stats().byOutcome.ok;
    await startBoth(limitedPki, 'limited');
    await waitFor('the first 429', () => limited.stats().byFault.only429 > 0);
    const firstLimited = Date.now();
    await waitFor('every healthy certificate stapled', async () => (await countKeys(redis, `${prefix}staple:*`)) === CERTS);
    // Done well inside the limited host's 60 s pause, which is still holding its jobs back.
    expect(Date.now() - firstLimited).toBeLessThan(60_000);
    expect(healthy.stats().byOutcome.ok - okBefore).toBe(CERTS);
    expect(limited.stats().byOutcome.ok).toBe(0);
    // One wave of requests hit the limited host, then it was left alone.
    const asked = limited.stats().requests;
    expect(asked).toBeLessThan(CERTS / 2);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(limited.stats().requests).toBe(asked);
  });

  it('staples the healthy host while the other refuses connections', async () => {
    const okBefore = healthy.stats().byOutcome.ok;
    await startBoth(downPki, 'down');
    await waitFor('every healthy certificate stapled', async () => (await countKeys(redis, `${prefix}staple:*`)) === CERTS);
    expect(healthy.stats().byOutcome.ok - okBefore).toBe(CERTS);
    // Meanwhile the down host's certificates were tried (their failures are recorded in meta) and
    // are retrying with backoff.
    expect(await countKeys(redis, `${prefix}meta:*`)).toBeGreaterThan(CERTS);
  });

  it('staples the healthy host while the other never answers, then stops waiting on it', async () => {
    const okBefore = healthy.stats().byOutcome.ok;
    await startBoth(hangingPki, 'hanging', { STAPLEWARM_RESPONSE_TIMEOUT_MS: '5000' });
    await waitFor('every healthy certificate stapled', async () => (await countKeys(redis, `${prefix}staple:*`)) === CERTS);
    expect(healthy.stats().byOutcome.ok - okBefore).toBe(CERTS);
    // Done while the hanging host still holds the requests it was sent (none has timed out yet).
    expect(hanging.stats().hanging).toBeGreaterThan(0);
    // Once they time out, its jobs fail at once (host-down) instead of hanging in every worker slot.
    // (Found by fingerprint: a certificate without a verified staple holds no host alias.)
    const leaves = (await readManifest(hangingPki.dir)).leaves;
    await waitFor(
      'a host-down failure',
      async () => {
        const codes = await Promise.all(leaves.slice(-20).map((leaf) => redis.hget(`${prefix}meta:${leaf.fingerprint}`, 'lastErrorCode')));
        return (await redis.exists(`${prefix}meta:${leaves[0]?.fingerprint ?? ''}`)) === 1 && codes.includes('host-down');
      },
      30_000,
    );
    expect(hanging.stats().requests).toBeLessThan(CERTS);
  });
});
