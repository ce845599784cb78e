/**
 * startWorker (the pool of `worker` and `serve`) against a real Redis, BullMQ and an HTTP responder
 * that answers 500: a failed attempt comes back after STAPLEWARM_RETRY_BASE_MS, as in `warm`.
 * Without Redis this skips locally and fails under CI=true.
 */
import { REDIS_URL } from '@staplewarm/testing';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { StapleQueue, primaryHostOf, silentLogger, type StapleJobData } from '@staplewarm/queue';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, queuePrefix } from '../config.js';
import { connectRedis } from '../redis.js';
import { startWorker } from './run-worker.js';

async function connect(): Promise<Redis | undefined> {
  try {
    return await connectRedis(REDIS_URL, { connectTimeoutMs: 1_000 });
  } catch (err) {
    if (process.env.CI === 'true') throw new Error('Redis is required under CI=true', { cause: err });
    process.emitWarning('apps/staplewarm: Redis not reachable; skipping the startWorker test');
    return undefined;
  }
}

const redis = await connect();

describe.skipIf(!redis)('startWorker', () => {
  afterAll(() => redis?.disconnect());

  it('waits STAPLEWARM_RETRY_BASE_MS before retrying a failed attempt', async () => {
    const responder: Server = createServer((_req, res) => res.writeHead(500).end());
    await new Promise<void>((resolve) => responder.listen(0, '127.0.0.1', resolve));
    const address = responder.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    const prefix = `test:${randomBytes(6).toString('hex')}:ocsp:`;
    // Through loadConfig, as the commands read it: 40 s, far from the 1 s default. The responder is
    // on loopback, which the address policy refuses unless allowed.
    const config = loadConfig(
      { prefix, rate: '0', metricsPort: '0', responderAllow: ['127.0.0.0/8'] },
      { STAPLEWARM_RETRY_BASE_MS: '40000', STAPLEWARM_ATTEMPTS: '2' },
    );
    const queue = new StapleQueue({ connection: redis!, prefix: queuePrefix(prefix), attempts: config.attempts });
    const running = await startWorker(redis!, config, silentLogger);
    try {
      const target: StapleJobData = {
        fingerprint: createHash('sha256').update(prefix).digest('hex'),
        names: ['retry.example.test'],
        mustStaple: false,
        certNotAfter: Date.now() + 86_400_000,
        ocspUrls: [url],
        certId: { hashAlgorithm: 'sha1', issuerNameHash: 'aa', issuerKeyHash: 'bb', serialNumber: '01' },
        request: 'MAA=',
        issuerSpki: 'MAA=',
        subject: 'CN=retry',
      };
      await queue.enqueue([target]);
      const hostQueue = queue.queueOf(primaryHostOf(target));
      let delayed = await hostQueue.getJobs(['delayed']);
      for (const deadline = Date.now() + 10_000; delayed.length === 0 && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        delayed = await hostQueue.getJobs(['delayed']);
      }
      const [job] = delayed;
      expect(job?.attemptsMade).toBe(1);
      // Equal jitter on the first retry: between half the base and the base (the default: 0.5-1 s).
      expect(job?.delay).toBeGreaterThanOrEqual(20_000);
      expect(job?.delay).toBeLessThanOrEqual(40_000);
    } finally {
      await running.stop();
      await queue.queueOf(new URL(url).host).obliterate({ force: true });
      await queue.close();
      responder.closeAllConnections();
      await new Promise((resolve) => responder.close(resolve));
      // The host limiter's Bottleneck keys start with `b_`, outside the prefix.
      for (const pattern of [`${prefix}*`, `b_${prefix}*`]) {
        let cursor = '0';
        do {
          const [next, keys] = await redis!.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await redis!.unlink(...keys);
        } while (cursor !== '0');
      }
    }
  });
});
