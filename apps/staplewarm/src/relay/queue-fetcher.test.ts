/**
 * The relay's misses in the shared queue (real Redis and BullMQ): an urgent job is the next one a
 * worker takes however many jobs wait, and asking twice for one certificate leaves one job.
 */
import type { StapleTarget } from '@staplewarm/ocsp';
import { Worker } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { connectOrSkip, deletePrefix, testPrefix, REDIS_URL } from '@staplewarm/testing';
import { QueueMissFetcher } from './queue-fetcher.js';
import { StapleQueue, hostQueueName, primaryHostOf } from '@staplewarm/queue';

const redis = await connectOrSkip(REDIS_URL, 'apps/staplewarm relay queue');

function target(n: number): StapleTarget {
  const fingerprint = n.toString(16).padStart(64, '0');
  return {
    fingerprint,
    names: [`n${n}.test`],
    mustStaple: false,
    certNotAfter: Date.now() + 86_400_000,
    ocspUrls: ['http://ocsp.test/'],
    certId: { hashAlgorithm: 'sha1', issuerNameHash: 'aa'.repeat(20), issuerKeyHash: 'bb'.repeat(20), serialNumber: '01' },
    request: '',
    issuerSpki: '',
    subject: `n${n}.test`,
  };
}

describe.skipIf(!redis)('QueueMissFetcher', () => {
  const prefix = `${testPrefix('relay-queue')}bull`;
  afterAll(async () => {
    if (!redis) return;
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('puts the miss at the head of the wait list: the next job a worker takes, behind no scan backlog', async () => {
    if (!redis) return;
    const backlog = new StapleQueue({ connection: redis, prefix });
    await backlog.enqueue(Array.from({ length: 50 }, (_, i) => target(i + 1)));
    const fetcher = new QueueMissFetcher({ connection: redis, prefix, attempts: 2 });
    await fetcher.request(target(1_000));
    await fetcher.request(target(1_000)); // a second relay asking: still one job
    const hostQueue = backlog.queueOf(primaryHostOf(target(1)));
    expect(await hostQueue.getWaitingCount()).toBe(51);

    const taken: string[] = [];
    const worker = new Worker(
      hostQueueName(primaryHostOf(target(1))),
      async (job) => {
        taken.push(job.id ?? '');
      },
      { connection: redis.duplicate(), prefix, concurrency: 1, autorun: false },
    );
    void worker.run();
    while (taken.length < 3) await new Promise((resolve) => setTimeout(resolve, 20));
    await worker.close();
    expect(taken[0]).toBe(target(1_000).fingerprint);
    expect(taken.slice(1)).not.toContain(target(1_000).fingerprint);
    await Promise.all([fetcher.close(), backlog.close()]);
  });
});
